#!/usr/bin/env bash
# Makes a self-signed certificate and key for the management API's TLS
# listener (docs/api.md, "api": {"tls": {"cert", "key"}}).
#
#   scripts/make-api-cert.sh [--force] DIR [NAME...]
#
# Writes DIR/api.crt and DIR/api.key (mode 0600): ECDSA P-256, SHA-256,
# valid 825 days, CA:false, keyUsage digitalSignature, extendedKeyUsage
# serverAuth, a subjectAltName for each NAME (DNS: for host names, IP: for
# IPv4 and IPv6 addresses; default: localhost 127.0.0.1 ::1), CN = the first
# NAME. Refuses to overwrite either file unless --force. Clients trust the
# certificate itself: corridorctl --cacert DIR/api.crt, curl --cacert.
set -euo pipefail

usage() {
  echo "usage: $0 [--force] DIR [NAME...]" >&2
  echo "  makes DIR/api.crt and DIR/api.key, self-signed P-256 for the NAMEs" >&2
  echo "  (host names and IP addresses; default: localhost 127.0.0.1 ::1)" >&2
  exit 64
}

force=false
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=true ;;
    -h|--help) usage ;;
    --) shift; args+=("$@"); break ;;
    -*) echo "$0: unknown option $1" >&2; usage ;;
    *) args+=("$1") ;;
  esac
  shift
done
[ ${#args[@]} -ge 1 ] || usage
dir=${args[0]}
[ -n "$dir" ] || usage
names=("${args[@]:1}")
[ ${#names[@]} -gt 0 ] || names=(localhost 127.0.0.1 ::1)

command -v openssl >/dev/null || { echo "$0: openssl not found (apt-get install openssl)" >&2; exit 1; }

is_ipv4() {
  local IFS=. octets o
  [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
  read -ra octets <<< "$1"
  for o in "${octets[@]}"; do
    [ $((10#$o)) -le 255 ] || return 1
  done
}

# The names go into an OpenSSL config file: only what a host name or an IP
# address can contain passes, so nothing can add a field or an extension.
dns_label='[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
san_lines=()
ndns=0
nip=0
for name in "${names[@]}"; do
  if is_ipv4 "$name"; then
    nip=$((nip + 1)); san_lines+=("IP.$nip = $name")
  elif [[ $name =~ ^\[?([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)\]?$ ]]; then
    nip=$((nip + 1)); san_lines+=("IP.$nip = ${BASH_REMATCH[1]}")  # IPv6; openssl checks the syntax
  elif [[ $name =~ ^[0-9.]+$ ]]; then
    echo "$0: '$name' is not an IPv4 address" >&2; exit 64
  elif [ ${#name} -le 253 ] && [[ $name =~ ^(\*\.)?$dns_label(\.$dns_label)*$ ]]; then
    ndns=$((ndns + 1)); san_lines+=("DNS.$ndns = $name")
  else
    echo "$0: '$name' is neither a host name nor an IP address" >&2; exit 64
  fi
done
cn=${names[0]}
cn=${cn#[}; cn=${cn%]}
if [ ${#cn} -gt 64 ]; then
  echo "$0: '$cn' is longer than the 64 characters a CN may have; put a shorter name first" >&2
  exit 64
fi

crt=$dir/api.crt
key=$dir/api.key
if ! $force; then
  for f in "$crt" "$key"; do
    if [ -e "$f" ]; then
      echo "$0: $f exists; not overwriting it (--force replaces it)" >&2
      exit 1
    fi
  done
fi
made_dir=false
if [ ! -d "$dir" ]; then
  mkdir -p "$dir"
  made_dir=true
fi

# Everything is made beside the final files and moved into place at the end,
# so a failure never leaves a key without its certificate or a partial file
# (nor the directory, if this run made it).
work=$(mktemp -d "$dir/.make-api-cert.XXXXXX")
done=false
cleanup() {
  rm -rf "$work"
  if ! $done && $made_dir; then rmdir "$dir" 2>/dev/null || true; fi
}
trap cleanup EXIT
umask 077

cat > "$work/req.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3

[dn]
CN = $cn

[v3]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = @alt

[alt]
$(printf '%s\n' "${san_lines[@]}")
EOF

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -pkeyopt ec_param_enc:named_curve \
  -out "$work/api.key" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
openssl req -x509 -new -config "$work/req.cnf" -key "$work/api.key" -sha256 -days 825 \
  -out "$work/api.crt" 2>"$work/err" || { echo "$0: openssl req failed:" >&2; cat "$work/err" >&2; exit 1; }
chmod 0600 "$work/api.key"
chmod 0644 "$work/api.crt"
mv -f "$work/api.key" "$key"
mv -f "$work/api.crt" "$crt"
done=true

san=$(openssl x509 -in "$crt" -noout -ext subjectAltName | sed -n '2,$s/^ *//p')
echo "wrote $crt: self-signed ECDSA P-256/SHA-256, CN=$cn, $(openssl x509 -in "$crt" -noout -enddate | sed 's/notAfter=/valid until /')"
echo "      subjectAltName: $san"
echo "      $(openssl x509 -in "$crt" -noout -fingerprint -sha256)"
echo "wrote $key (mode 0600)"

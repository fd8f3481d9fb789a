#include "tools/corridorctl/render.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <vector>

#include "common/time/utc_text.h"

namespace corridor::ctl {

namespace {

const Json& member(const Json& object, std::string_view key) {
  static const Json null;
  if (!object.is_object()) return null;
  const auto it = object.find(key);
  return it == object.end() ? null : *it;
}

std::string scalar(const Json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

// The API writes SPIs as "0xc1a2b3c4"; swanctl shows them without the 0x.
std::string spi(const Json& object, std::string_view key) {
  auto text = field(object, key);
  if (text.starts_with("0x")) text.erase(0, 2);
  return text;
}

// ", rekeying in 2950s, expires in 3420s", leaving out what is not scheduled.
std::string schedule(const Json& object) {
  std::string out;
  if (const auto& v = member(object, "rekey_in_seconds"); !v.is_null()) out += ", rekeying in " + scalar(v) + "s";
  if (const auto& v = member(object, "expire_in_seconds"); !v.is_null()) out += ", expires in " + scalar(v) + "s";
  return out;
}

std::string endpoint(const Json& sa, std::string_view id_key, std::string_view side) {
  const auto& address = member(sa, side);
  return "'" + field(sa, id_key) + "' @ " + field(address, "address") + "[" + field(address, "port") + "]";
}

void print_traffic(std::ostream& out, const Json& child) {
  const auto& traffic = member(child, "traffic");
  if (!traffic.is_object()) {
    out << "    in  " << spi(child, "spi_in") << ", out " << spi(child, "spi_out") << ": no traffic report yet\n";
    return;
  }
  for (const auto* direction : {"in", "out"}) {
    const auto& t = member(traffic, direction);
    out << "    " << (direction[0] == 'i' ? "in  " : "out ") << spi(child, direction[0] == 'i' ? "spi_in" : "spi_out")
        << ", " << field(t, "bytes") << " bytes, " << field(t, "packets") << " packets";
    if (const auto& last = member(t, "last_use_seconds"); !last.is_null()) out << ", used " << scalar(last) << "s ago";
    // Drop counters only when there is something to see.
    for (const auto& [key, label] : {std::pair{"replay_drops", "replay drops"}, {"icv_failures", "ICV failures"},
                                     {"malformed_drops", "malformed"}}) {
      const auto& v = member(t, key);
      if (v.is_number() && v.get<double>() != 0) out << ", " << scalar(v) << ' ' << label;
    }
    out << '\n';
  }
}

void print_child(std::ostream& out, const Json& child) {
  out << "  " << field(child, "name") << ": #" << spi(child, "spi_in") << ", " << field(child, "state") << ", "
      << field(child, "mode") << ", " << field(child, "protocol");
  if (member(child, "encapsulation") == true) out << ", UDP-encap";
  out << '\n';
  out << "    " << field(child, "proposal") << '\n';
  out << "    installed " << field(child, "installed_seconds") << "s ago" << schedule(child) << '\n';
  print_traffic(out, child);
  std::string local, remote;
  for (const auto& ts : member(child, "local_ts")) local += (local.empty() ? "" : " ") + scalar(ts);
  for (const auto& ts : member(child, "remote_ts")) remote += (remote.empty() ? "" : " ") + scalar(ts);
  out << "    " << (local.empty() ? "-" : local) << " === " << (remote.empty() ? "-" : remote) << '\n';
}

void flatten(const Json& value, const std::string& key, std::map<std::string, std::string>& out) {
  const bool container = value.is_object() || value.is_array();
  if (!container || value.empty()) {
    out[key.empty() ? "value" : key] = container || value.is_null() ? value.dump() : scalar(value);
    return;
  }
  std::size_t index = 0;
  for (const auto& item : value.items()) {
    const std::string name = value.is_array() ? std::to_string(index++) : item.key();
    flatten(item.value(), key.empty() ? name : key + "." + name, out);
  }
}

}  // namespace

std::string field(const Json& object, std::string_view key) {
  const auto& value = member(object, key);
  if (!value.is_array()) return scalar(value);
  std::string out;
  for (const auto& item : value) out += (out.empty() ? "" : ",") + scalar(item);
  return out.empty() ? "-" : out;
}

void print_sas(std::ostream& out, const Json& items) {
  for (const auto& sa : items) {
    const bool initiator = member(sa, "initiator") == true;
    out << field(sa, "name") << ": #" << field(sa, "id") << ", " << field(sa, "state") << ", IKEv"
        << field(sa, "version") << ", " << field(sa, "spi_i") << "_i" << (initiator ? "* " : " ")
        << field(sa, "spi_r") << "_r" << (initiator ? "" : "*") << '\n';
    out << "  local  " << endpoint(sa, "local_id", "local") << '\n';
    out << "  remote " << endpoint(sa, "remote_id", "remote") << '\n';
    out << "  " << field(sa, "proposal") << '\n';
    out << "  established " << field(sa, "established_seconds") << "s ago" << schedule(sa) << '\n';
    for (const auto& child : member(sa, "children")) print_child(out, child);
  }
}

void print_connections(std::ostream& out, const Json& items) {
  std::vector<std::vector<std::string>> rows = {{"NAME", "VERSION", "LOCAL", "REMOTE", "CHILDREN"}};
  for (const auto& c : items) {
    std::string children;
    for (const auto& child : member(c, "children")) children += (children.empty() ? "" : ",") + field(child, "name");
    rows.push_back({field(c, "name"), field(c, "version"), field(c, "local_addrs"), field(c, "remote_addrs"),
                    children.empty() ? "-" : children});
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i)
      line += i + 1 < row.size() ? row[i] + std::string(width[i] - row[i].size() + 2, ' ') : row[i];
    out << line << '\n';
  }
}

void print_event(std::ostream& out, std::chrono::system_clock::time_point received, std::string_view type,
                 const Json& data) {
  const std::string when = timefmt::utc_text(received);
  std::string kind(type);
  kind.resize(std::max<std::size_t>(kind.size(), 12), ' ');  // "child-updown" is the longest type
  out << when << ' ' << kind << ' ';
  const auto up_down = [&] { return member(data, "up") == true ? "up" : member(data, "up") == false ? "down" : "-"; };
  const auto spis = [&] { return ", SPIs " + spi(data, "spi_in") + "_i " + spi(data, "spi_out") + "_o"; };
  if (type == "ike-updown") {
    out << field(data, "ike_sa") << ' ' << up_down();
  } else if (type == "child-updown") {
    out << field(data, "ike_sa") << ' ' << field(data, "child") << ' ' << up_down() << spis();
  } else if (type == "ike-rekey") {
    out << field(data, "ike_sa") << " rekeyed, replacing #" << field(data, "old_id");
  } else if (type == "child-rekey") {
    out << field(data, "ike_sa") << ' ' << field(data, "child") << " rekeyed" << spis() << ", replacing "
        << spi(data, "old_spi_in") << "_i";
  } else if (type == "log") {
    std::string level = field(data, "level");
    level.resize(std::max<std::size_t>(level.size(), 7), ' ');  // "warning" is the longest level
    out << level << " [" << field(data, "subsystem") << "] " << field(data, "message");
  } else {
    // A type this corridorctl does not know (a newer server): its data as sent.
    out << data.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  out << '\n';
}

void print_flat(std::ostream& out, const Json& value) {
  std::map<std::string, std::string> lines;
  flatten(value, "", lines);
  for (const auto& [key, text] : lines) out << key << ": " << text << '\n';
}

}  // namespace corridor::ctl

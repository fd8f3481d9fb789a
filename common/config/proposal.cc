// Proposal-string parsing with strongSwan's semantics
// (src/libstrongswan/crypto/proposal/proposal.c, proposal_create_from_string
// and check_proposal), made stricter where strongSwan silently drops what
// the operator wrote, and reporting every problem instead of the first.
#include "common/config/proposal.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

#include "common/config/proposal_keywords.h"

namespace corridor::config {
namespace {

using iana::TransformType;

// Longest keyword quoted back in a message; the rest is elided so a huge
// garbage string cannot produce a huge log line.
constexpr std::size_t kMaxQuotedChars = 64;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

char to_lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return to_lower_ascii(x) == to_lower_ascii(y); });
}

// Removes blanks around text (strongSwan trims ' ' around each keyword);
// *lead receives how many were removed at the front.
std::string_view trim(std::string_view text, std::size_t* lead) {
  std::size_t begin = 0;
  while (begin < text.size() && is_blank(text[begin])) ++begin;
  std::size_t end = text.size();
  while (end > begin && is_blank(text[end - 1])) --end;
  *lead = begin;
  return text.substr(begin, end - begin);
}

// 'keyword' for a message, with bytes that are not printable ASCII escaped
// so a garbled config cannot put control characters into logs.
std::string quoted(std::string_view text) {
  std::string out = "'";
  std::size_t count = 0;
  for (char ch : text) {
    if (count++ == kMaxQuotedChars) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(ch);
    if (byte >= 0x20 && byte < 0x7f) {
      out += ch;
    } else {
      std::array<char, 5> hex{};
      std::snprintf(hex.data(), hex.size(), "\\x%02x", byte);
      out += hex.data();
    }
  }
  out += '\'';
  return out;
}

std::string at_column(std::size_t column) { return " at column " + std::to_string(column); }

// strongSwan's integ_prf_map: without a PRF keyword, an IKE proposal uses
// the PRFs built on its integrity algorithms.
bool prf_for_integrity(std::uint16_t integrity, std::uint16_t* prf) {
  using iana::IntegId;
  using iana::PrfId;
  PrfId result{};
  switch (static_cast<IntegId>(integrity)) {
    case IntegId::hmac_sha1_96:
    case IntegId::hmac_sha1_160: result = PrfId::hmac_sha1; break;
    case IntegId::hmac_sha2_256_128: result = PrfId::hmac_sha2_256; break;
    case IntegId::hmac_sha2_384_192: result = PrfId::hmac_sha2_384; break;
    case IntegId::hmac_sha2_512_256: result = PrfId::hmac_sha2_512; break;
    case IntegId::hmac_md5_96:
    case IntegId::hmac_md5_128: result = PrfId::hmac_md5; break;
    case IntegId::aes_xcbc_96: result = PrfId::aes128_xcbc; break;
    case IntegId::aes_cmac_96: result = PrfId::aes128_cmac; break;
    default: return false;
  }
  *prf = static_cast<std::uint16_t>(result);
  return true;
}

void append_unique(std::vector<Transform>* list, const Transform& transform) {
  if (std::find(list->begin(), list->end(), transform) == list->end()) {
    list->push_back(transform);
  }
}

// strongSwan 6 writes additional key exchanges (RFC 9370) as "ke1_ecp256"
// .. "ke7_mlkem768".
bool is_additional_ke_keyword(std::string_view word) {
  if (word.size() < 5 || word.substr(0, 2) != "ke" || word[2] < '1' || word[2] > '7' ||
      word[3] != '_') {
    return false;
  }
  const ProposalKeyword* base = find_proposal_keyword(word.substr(4));
  return base != nullptr && base->type == TransformType::key_exchange;
}

class ProposalParser {
 public:
  ProposalParser(std::string_view text, ProposalKind kind, const ProposalOptions& options)
      : text_(text), kind_(kind), options_(options) {}

  ProposalParseResult run();

 private:
  void error(std::size_t column, std::string message) {
    result_.errors.push_back(ProposalError{column, std::move(message)});
  }
  void parse_keywords(std::string_view body, std::size_t offset);
  void parse_keyword(std::string_view word, std::size_t column);
  bool type_allowed(const ProposalKeyword& keyword, std::string_view word, std::size_t column);
  void add(const ProposalKeyword& keyword, std::string_view word, std::size_t column);
  void check_structure();
  void build();

  const std::string_view text_;
  const ProposalKind kind_;
  const ProposalOptions& options_;
  ProposalParseResult result_;

  // Accepted transforms per type, first occurrence first.
  std::vector<Transform> encryption_;
  std::vector<Transform> prf_;
  std::vector<Transform> integrity_;
  std::vector<Transform> key_exchange_;
  std::vector<Transform> esn_;
  // Where the first AEAD and the first classic encryption keyword stand
  // (0: none); a proposal mixing the two is refused at the later one.
  std::size_t first_aead_column_ = 0;
  std::size_t first_classic_column_ = 0;
  std::string first_classic_keyword_;
  bool classic_all_null_ = true;
  // A keyword that was refused may have been the one a structural rule
  // wants, so that rule stays quiet about it instead of piling up errors.
  // After a keyword of unknown meaning no structural rule is checked.
  std::array<bool, 6> refused_type_{};
  bool refused_unknown_ = false;

  void refuse(TransformType type) { refused_type_[static_cast<std::size_t>(type)] = true; }
  bool refused(TransformType type) const {
    return refused_unknown_ || refused_type_[static_cast<std::size_t>(type)];
  }
};

ProposalParseResult ProposalParser::run() {
  std::size_t lead = 0;
  std::string_view body = trim(text_, &lead);
  if (body.empty()) {
    error(0, "empty proposal");
    return std::move(result_);
  }
  // swanctl (vici_config.c) compares "default" ignoring case.
  if (equals_ignore_case(body, "default")) {
    result_.proposals = default_proposals(kind_);
    return std::move(result_);
  }
  if (body.back() == '!') {
    error(lead + body.size(),
          "trailing '!'" + at_column(lead + body.size()) +
              " is ipsec.conf's strict-proposal flag; swanctl proposals have no '!' because "
              "only the proposals listed are ever accepted: remove it");
    body.remove_suffix(1);
  }
  if (!body.empty()) parse_keywords(body, lead);
  check_structure();
  if (result_.errors.empty()) build();
  return std::move(result_);
}

void ProposalParser::parse_keywords(std::string_view body, std::size_t offset) {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t dash = body.find('-', pos);
    const std::size_t end = dash == std::string_view::npos ? body.size() : dash;
    std::size_t lead = 0;
    const std::string_view word = trim(body.substr(pos, end - pos), &lead);
    if (word.empty()) {
      // Point at the slot; a trailing empty slot has only its '-' to show.
      const bool trailing = dash == std::string_view::npos && pos > 0;
      const std::size_t column = offset + (trailing ? pos : pos + 1);
      // A lone "-" is both a leading and a trailing '-': one error.
      if (result_.errors.empty() || result_.errors.back().column != column) {
        error(column, "empty algorithm keyword" + at_column(column) +
                          " (two '-' in a row, or a leading or trailing '-')");
      }
    } else {
      parse_keyword(word, offset + pos + lead + 1);
    }
    if (dash == std::string_view::npos) break;
    pos = dash + 1;
  }
}

void ProposalParser::parse_keyword(std::string_view word, std::size_t column) {
  if (const std::size_t comma = word.find(','); comma != std::string_view::npos) {
    error(column + comma, "','" + at_column(column + comma) +
                              " separates proposals in a list; a proposal string holds one "
                              "proposal: give each one separately");
    refused_unknown_ = true;
    return;
  }
  if (equals_ignore_case(word, "default")) {
    error(column, "'default'" + at_column(column) +
                      " stands for the whole default proposal list and cannot be combined "
                      "with other keywords");
    refused_unknown_ = true;
    return;
  }
  const ProposalKeyword* keyword = find_proposal_keyword(word);
  if (keyword == nullptr) {
    refused_unknown_ = true;
    if (is_additional_ke_keyword(word)) {
      error(column, quoted(word) + at_column(column) +
                        " is strongSwan's syntax for an additional key exchange (RFC 9370), "
                        "which Corridor does not implement");
      return;
    }
    std::string message = "unknown algorithm keyword " + quoted(word) + at_column(column);
    std::string lower(word);
    std::transform(lower.begin(), lower.end(), lower.begin(), to_lower_ascii);
    if (lower != word && find_proposal_keyword(lower) != nullptr) {
      message += " (keywords are lowercase: did you mean '" + lower + "'?)";
    }
    error(column, std::move(message));
    return;
  }
  if (!type_allowed(*keyword, word, column)) {
    refuse(keyword->type);
    return;
  }
  if (!keyword->supported_for(kind_)) {
    refuse(keyword->type);
    error(column, quoted(word) + " is a strongSwan keyword (" + keyword->algorithm_name() +
                      ") that Corridor does not implement for " +
                      std::string(to_string(kind_)));
    return;
  }
  if (keyword->weak() && !options_.allow_weak) {
    refuse(keyword->type);
    // RFC 8221 grades ESP/AH algorithms, RFC 8247 IKE ones and the groups.
    const bool ike_rules =
        kind_ == ProposalKind::ike || keyword->type == TransformType::key_exchange;
    error(column, quoted(word) + " (" + keyword->algorithm_name() + ") is weak (" +
                      (ike_rules ? "RFC 8247" : "RFC 8221") + "): set allow_weak to use it");
    return;
  }
  add(*keyword, word, column);
}

// RFC 7296 §3.3.3 lists which transform types each protocol negotiates.
// strongSwan silently drops the others; an operator who wrote one expected
// it to take effect, so it is an error here.
bool ProposalParser::type_allowed(const ProposalKeyword& keyword, std::string_view word,
                                  std::size_t column) {
  switch (keyword.type) {
    case TransformType::prf:
      if (kind_ != ProposalKind::ike) {
        error(column, quoted(word) + at_column(column) +
                          " is a PRF, which only IKE proposals negotiate (RFC 7296 §3.3.3): "
                          "remove it from this " + std::string(to_string(kind_)) + " proposal");
        return false;
      }
      return true;
    case TransformType::esn:
      if (kind_ == ProposalKind::ike) {
        error(column, quoted(word) + at_column(column) +
                          " is an extended sequence numbers option, which only ESP and AH "
                          "proposals negotiate (RFC 7296 §3.3.3): remove it from this IKE "
                          "proposal");
        return false;
      }
      return true;
    case TransformType::encryption:
      if (kind_ == ProposalKind::ah) {
        error(column, quoted(word) + at_column(column) +
                          " is an encryption algorithm, but AH only authenticates (RFC 4302): "
                          "use an ESP proposal to encrypt");
        return false;
      }
      return true;
    case TransformType::key_exchange:
      if (kind_ == ProposalKind::ike && keyword.in_iana_registry() &&
          keyword.id == static_cast<std::uint16_t>(iana::KeId::none)) {
        error(column, quoted(word) + at_column(column) +
                          " means no key exchange, but IKE_SA_INIT always performs one "
                          "(RFC 7296 §1.2)");
        return false;
      }
      return true;
    case TransformType::integrity:
      return true;
  }
  return true;
}

void ProposalParser::add(const ProposalKeyword& keyword, std::string_view word,
                         std::size_t column) {
  const Transform transform = keyword.transform();
  switch (transform.type) {
    case TransformType::encryption:
      if (std::find(encryption_.begin(), encryption_.end(), transform) != encryption_.end()) {
        return;  // a repeated keyword (or synonym): strongSwan keeps the first
      }
      encryption_.push_back(transform);
      if (iana::encryption_is_aead(transform.id)) {
        if (first_aead_column_ == 0) first_aead_column_ = column;
      } else {
        if (first_classic_column_ == 0) {
          first_classic_column_ = column;
          first_classic_keyword_ = std::string(word);
        }
        classic_all_null_ =
            classic_all_null_ && transform.id == static_cast<std::uint16_t>(iana::EncrId::null);
      }
      return;
    case TransformType::prf: append_unique(&prf_, transform); return;
    case TransformType::integrity: append_unique(&integrity_, transform); return;
    case TransformType::key_exchange: append_unique(&key_exchange_, transform); return;
    case TransformType::esn: append_unique(&esn_, transform); return;
  }
}

void ProposalParser::check_structure() {
  const bool any_aead = first_aead_column_ != 0;
  const bool any_classic = first_classic_column_ != 0;
  const std::string kind_name(to_string(kind_));

  if (kind_ != ProposalKind::ah && !any_classic && !any_aead &&
      !refused(TransformType::encryption)) {
    error(0, kind_ == ProposalKind::ike
                 ? "an IKE proposal needs an encryption algorithm (e.g. aes256gcm16 or aes256)"
                 : "an ESP proposal needs an encryption algorithm (for integrity protection "
                   "only, use 'null' with an integrity algorithm, or AH)");
  }
  // strongSwan requires integrity with classic encryption only for IKE;
  // Corridor also refuses unauthenticated ESP, which RFC 8221 advises
  // against and which leaves ESP open to active attacks.
  if (kind_ != ProposalKind::ah && any_classic && integrity_.empty() &&
      !refused(TransformType::integrity)) {
    if (kind_ == ProposalKind::esp && classic_all_null_) {
      error(0, "'null' encryption in an ESP proposal needs an integrity algorithm "
               "(e.g. sha256): ESP must not be left without protection");
    } else {
      error(0, "classic (non-AEAD) encryption " + quoted(first_classic_keyword_) + " in an " +
                   kind_name + " proposal needs an integrity algorithm (e.g. sha256)");
    }
  }
  // As strongSwan 5.9 (proposal.c check_proposal()): one proposal is either
  // combined-mode or classic, since an AEAD proposal carries no INTEG
  // transform (RFC 7296 3.3) and a classic one needs it.
  if (any_aead && any_classic) {
    error(std::max(first_aead_column_, first_classic_column_),
          "classic and combined-mode (AEAD) encryption cannot be in the same proposal, as in "
          "strongSwan: write two proposals, e.g. \"aes256gcm16-prfsha256-ecp256\" and "
          "\"aes256-sha256-ecp256\"");
  }
  if (kind_ == ProposalKind::ah && integrity_.empty() && !refused(TransformType::integrity)) {
    error(0, "an AH proposal needs an integrity algorithm (e.g. sha256)");
  }

  if (kind_ == ProposalKind::ike) {
    if (key_exchange_.empty() && !refused(TransformType::key_exchange)) {
      error(0, "an IKE proposal needs a key exchange method (e.g. curve25519, ecp256 or "
               "modp3072)");
    }
    if (prf_.empty()) {
      // As strongSwan: the PRFs of the integrity algorithms, derived before
      // an AEAD proposal drops those algorithms.
      for (const Transform& integrity : integrity_) {
        std::uint16_t prf = 0;
        if (prf_for_integrity(integrity.id, &prf)) {
          append_unique(&prf_, Transform{TransformType::prf, prf, 0});
        }
      }
    }
    if (prf_.empty() && any_aead && !refused(TransformType::prf) &&
        !refused(TransformType::integrity)) {
      error(0, "an AEAD IKE proposal needs a PRF (e.g. prfsha256): none is given and there "
               "is no integrity algorithm to derive one from");
    }
  } else if (esn_.empty()) {
    // As strongSwan: a Child SA proposal without esn/noesn offers no ESN.
    esn_.push_back(Transform{TransformType::esn, static_cast<std::uint16_t>(iana::EsnId::none), 0});
  }
}

void ProposalParser::build() {
  auto make = [this](std::vector<Transform> encryption, bool aead) {
    Proposal proposal;
    proposal.kind = kind_;
    proposal.encryption = std::move(encryption);
    // RFC 7296 §3.3: a combined-mode cipher carries its own integrity
    // check, so an AEAD proposal lists no integrity algorithm.
    if (!aead) proposal.integrity = integrity_;
    proposal.prf = prf_;
    proposal.key_exchange = key_exchange_;
    proposal.esn = esn_;
    return proposal;
  };

  if (kind_ == ProposalKind::ah) {
    result_.proposals.push_back(make({}, false));
    return;
  }
  // check_structure() has refused mixed AEAD and classic ciphers, so the
  // ciphers are all of one kind.
  const bool aead = first_aead_column_ != 0;
  result_.proposals.push_back(make(encryption_, aead));
}

std::string keyword_for(const Transform& transform) {
  if (const ProposalKeyword* keyword = canonical_keyword(transform)) {
    return std::string(keyword->keyword);
  }
  // No keyword (e.g. a transform a peer proposed): the registry name, as
  // strongSwan prints proposals.
  std::string name(iana::transform_name(transform.type, transform.id));
  if (transform.key_bits != 0) name += "_" + std::to_string(transform.key_bits);
  return name;
}

// The proposals "default" stands for, in swanctl's order (vici_config.c
// add_default_proposals: classic first for IKE, AEAD first for ESP),
// restricted to what Corridor implements.
std::vector<Proposal> build_defaults(ProposalKind kind) {
  constexpr std::string_view kIkeKe =
      "curve25519-ecp256-ecp384-ecp521-curve448-modp3072-modp4096-modp2048";
  std::vector<std::string> strings;
  switch (kind) {
    case ProposalKind::ike:
      strings.push_back("aes128-aes192-aes256-sha256-sha384-sha512-"
                        "prfsha256-prfsha384-prfsha512-" + std::string(kIkeKe));
      strings.push_back("aes128gcm16-aes256gcm16-chacha20poly1305-"
                        "prfsha256-prfsha384-prfsha512-" + std::string(kIkeKe));
      break;
    case ProposalKind::esp:
      strings.push_back("aes128gcm16-aes256gcm16-chacha20poly1305-noesn");
      strings.push_back("aes128-aes256-sha256-sha384-sha512-noesn");
      break;
    case ProposalKind::ah:
      strings.push_back("sha256-sha384-sha512-noesn");
      break;
  }
  std::vector<Proposal> proposals;
  for (const std::string& text : strings) {
    ProposalParseResult parsed = parse_proposal(text, kind);
    proposals.insert(proposals.end(), parsed.proposals.begin(), parsed.proposals.end());
  }
  return proposals;
}

}  // namespace

std::string_view to_string(ProposalKind kind) {
  switch (kind) {
    case ProposalKind::ike: return "IKE";
    case ProposalKind::esp: return "ESP";
    case ProposalKind::ah: return "AH";
  }
  return "UNKNOWN";
}

bool Proposal::aead() const {
  return !encryption.empty() &&
         std::all_of(encryption.begin(), encryption.end(),
                     [](const Transform& t) { return iana::encryption_is_aead(t.id); });
}

std::string Proposal::to_string() const {
  std::string out;
  for (const auto* list : {&encryption, &integrity, &prf, &key_exchange, &esn}) {
    for (const Transform& transform : *list) {
      if (!out.empty()) out += '-';
      out += keyword_for(transform);
    }
  }
  return out;
}

ProposalParseResult parse_proposal(std::string_view text, ProposalKind kind,
                                   const ProposalOptions& options) {
  return ProposalParser(text, kind, options).run();
}

std::vector<Proposal> default_proposals(ProposalKind kind) {
  static const std::array<std::vector<Proposal>, 3> kDefaults = {
      build_defaults(ProposalKind::ike),
      build_defaults(ProposalKind::esp),
      build_defaults(ProposalKind::ah),
  };
  const auto index = static_cast<std::size_t>(kind);
  return index < kDefaults.size() ? kDefaults[index] : std::vector<Proposal>{};
}

}  // namespace corridor::config

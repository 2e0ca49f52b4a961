#include "services/institution/institution_validation.h"

#include <set>
#include <string>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/country_codes.h"
#include "common/ids.h"
#include "common/validation.h"

namespace accord::institution {
namespace {

using v1::ExternalId;
using v1::Institution;
using v1::InstitutionName;
using v1::InstitutionRelation;
using v1::Official;
using v1::PersonName;

constexpr int kMaxNames = 50;
constexpr int kMaxExternalIds = 20;

// Names of both kinds share their rules: text, a known type, a language,
// at least one DISPLAY name and at most one DISPLAY name per language.
template <typename Name, typename IsValidType>
void CheckNames(Violations& violations, const std::string& field,
                const google::protobuf::RepeatedPtrField<Name>& names,
                IsValidType is_valid_type, int display_type) {
  if (names.empty()) {
    violations.Add(field, "must have at least one name of type TYPE_DISPLAY");
    return;
  }
  violations.CheckCount(field, names.size(), kMaxNames);
  std::set<std::string> display_languages;
  std::set<std::tuple<std::string, int, std::string>> seen;
  for (int i = 0; i < names.size(); ++i) {
    const Name& name = names[i];
    const std::string path = absl::StrCat(field, "[", i, "]");
    violations.CheckText(path + ".text", name.text(), kMaxNameLength, true);
    if (name.type() == 0 || !is_valid_type(name.type())) {
      violations.Add(path + ".type", "must be set to a known name type");
    }
    violations.CheckLanguage(path + ".language_code", name.language_code());
    const std::string language = absl::AsciiStrToLower(name.language_code());
    if (name.type() == display_type &&
        !display_languages.insert(language).second) {
      violations.Add(path + ".type",
                     absl::StrCat("a second TYPE_DISPLAY name for language \"",
                                  language, "\""));
    }
    if (!seen.insert({name.text(), name.type(), language}).second) {
      violations.Add(path, "repeats an earlier name");
    }
  }
  if (display_languages.empty()) {
    violations.Add(field, "must have at least one name of type TYPE_DISPLAY");
  }
}

void CheckInstitutionReference(Violations& violations, const std::string& field,
                               const std::string& reference, bool required) {
  if (reference.empty()) {
    if (required) violations.Add(field, "must name an institution");
    return;
  }
  absl::StatusOr<std::string> id =
      ParseResourceName(reference, "institutions", field);
  if (!id.ok()) {
    for (const FieldViolation& violation : FieldViolationsOf(id.status())) {
      violations.Add(violation.field, violation.description);
    }
  }
}

}  // namespace

bool IsValidExternalId(ExternalId::Scheme scheme, absl::string_view value) {
  auto all_of = [](absl::string_view text, auto predicate) {
    for (const char c : text) {
      if (!predicate(static_cast<unsigned char>(c))) return false;
    }
    return !text.empty();
  };
  switch (scheme) {
    case ExternalId::SCHEME_ROR:
      // 0 + 6 Crockford base32 characters + 2 check digits.
      return value.size() == 9 && value[0] == '0' &&
             all_of(value.substr(1, 6),
                    [](unsigned char c) {
                      return absl::ascii_isdigit(c) ||
                             (absl::ascii_islower(c) && c != 'i' && c != 'l' &&
                              c != 'o' && c != 'u');
                    }) &&
             all_of(value.substr(7), absl::ascii_isdigit);
    case ExternalId::SCHEME_WIKIDATA:
      return value.size() >= 2 && value.size() <= 12 && value[0] == 'Q' &&
             value[1] != '0' && all_of(value.substr(1), absl::ascii_isdigit);
    case ExternalId::SCHEME_ISNI: {
      std::string compact;
      for (const char c : value) {
        if (c != ' ') compact += c;
      }
      return compact.size() == 16 &&
             all_of(absl::string_view(compact).substr(0, 15),
                    absl::ascii_isdigit) &&
             (absl::ascii_isdigit(static_cast<unsigned char>(compact[15])) ||
              compact[15] == 'X');
    }
    default:
      return false;
  }
}

absl::Status ValidateInstitution(const Institution& institution) {
  Violations violations;
  CheckNames(violations, "institution.names", institution.names(),
             InstitutionName::Type_IsValid, InstitutionName::TYPE_DISPLAY);
  if (institution.kind() == Institution::KIND_UNSPECIFIED ||
      !Institution::Kind_IsValid(institution.kind())) {
    violations.Add("institution.kind", "must be set to a known kind");
  }
  if (!IsIsoCountryCode(institution.country_code())) {
    violations.Add("institution.country_code",
                   absl::StrCat("\"", Excerpt(institution.country_code(), 8),
                                "\" is not an ISO 3166-1 alpha-2 code such "
                                "as IR or RU"));
  }
  CheckInstitutionReference(violations, "institution.parent",
                            institution.parent(), false);
  if (!institution.parent().empty() &&
      institution.parent() == institution.name()) {
    violations.Add("institution.parent",
                   "an institution cannot be its own parent");
  }
  violations.CheckCount("institution.relations", institution.relations_size(),
                        kMaxListLength);
  std::set<std::pair<int, std::string>> relations;
  for (int i = 0; i < institution.relations_size(); ++i) {
    const InstitutionRelation& relation = institution.relations(i);
    const std::string path = absl::StrCat("institution.relations[", i, "]");
    if (relation.type() == InstitutionRelation::TYPE_UNSPECIFIED ||
        !InstitutionRelation::Type_IsValid(relation.type())) {
      violations.Add(path + ".type", "must be set to a known relation type");
    }
    CheckInstitutionReference(violations, path + ".institution",
                              relation.institution(), true);
    if (!relation.institution().empty() &&
        relation.institution() == institution.name()) {
      violations.Add(path + ".institution",
                     "an institution cannot be related to itself");
    }
    if (!relations.insert({relation.type(), relation.institution()}).second) {
      violations.Add(path, "repeats an earlier relation");
    }
  }
  violations.CheckCount("institution.external_ids",
                        institution.external_ids_size(), kMaxExternalIds);
  for (int i = 0; i < institution.external_ids_size(); ++i) {
    const ExternalId& external_id = institution.external_ids(i);
    const std::string path = absl::StrCat("institution.external_ids[", i, "]");
    if (external_id.scheme() == ExternalId::SCHEME_UNSPECIFIED ||
        !ExternalId::Scheme_IsValid(external_id.scheme())) {
      violations.Add(path + ".scheme", "must be ROR, WIKIDATA or ISNI");
    } else if (!IsValidExternalId(external_id.scheme(), external_id.value())) {
      violations.Add(path + ".value",
                     absl::StrCat("\"", Excerpt(external_id.value(), 32),
                                  "\" is not a valid ",
                                  ExternalId::Scheme_Name(external_id.scheme()),
                                  " identifier"));
    }
  }
  violations.CheckHttpUrl("institution.website_uri", institution.website_uri());
  if (!Institution::State_IsValid(institution.state()) ||
      institution.state() == Institution::STATE_UNSPECIFIED) {
    violations.Add("institution.state", "must be a known state");
  }
  return violations.ToStatus();
}

absl::Status ValidateOfficial(const Official& official) {
  Violations violations;
  CheckNames(violations, "official.names", official.names(),
             PersonName::Type_IsValid, PersonName::TYPE_DISPLAY);
  violations.CheckCount("official.positions", official.positions_size(),
                        kMaxListLength);
  for (int i = 0; i < official.positions_size(); ++i) {
    const v1::Position& position = official.positions(i);
    const std::string path = absl::StrCat("official.positions[", i, "]");
    CheckInstitutionReference(violations, path + ".institution",
                              position.institution(), true);
    violations.CheckText(path + ".title", position.title(), kMaxNameLength,
                         true);
    violations.CheckPartialDate(path + ".start_date", position.start_date());
    violations.CheckPartialDate(path + ".end_date", position.end_date());
    // Partial dates of one form compare correctly as strings.
    if (IsPartialDate(position.start_date()) &&
        IsPartialDate(position.end_date()) &&
        position.end_date() <
            position.start_date().substr(0, position.end_date().size())) {
      violations.Add(path + ".end_date", "is before start_date");
    }
  }
  return violations.ToStatus();
}

}  // namespace accord::institution

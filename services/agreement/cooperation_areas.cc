#include "services/agreement/cooperation_areas.h"

#include <algorithm>

namespace accord::agreement {
namespace {

struct Term {
  const char* id;
  const char* label;
  const char* broader;
};

// Broad areas first, then narrower terms under them.
constexpr Term kTerms[] = {
    {"health", "Health", ""},
    {"health-system-organisation", "Organisation of state health systems",
     "health"},
    {"communicable-diseases",
     "Prevention and treatment of communicable diseases", "health"},
    {"non-communicable-diseases",
     "Prevention and treatment of non-communicable diseases", "health"},
    {"mother-and-child-health", "Mother and child health", "health"},
    {"medicines-and-devices-regulation",
     "Regulation of medicines and medical devices", "health"},
    {"healthy-lifestyle", "Healthy lifestyle", "health"},
    {"digital-health", "Digital technologies in health care", "health"},
    {"medical-research", "Medical research", "health"},
    {"cell-and-gene-therapy", "Cell and gene therapy", "medical-research"},
    {"medical-knowledge", "Medical knowledge and its exchange", "health"},
    {"health-workforce-training", "Professional training of health workers",
     "health"},
    {"education", "Education", ""},
    {"higher-education", "Higher education", "education"},
    {"student-mobility", "Student mobility and study abroad", "education"},
    {"university-networks", "University networks", "higher-education"},
    {"science-and-technology", "Science and technology", ""},
    {"joint-research-projects", "Joint scientific and technical projects",
     "science-and-technology"},
    {"innovation", "Innovation", "science-and-technology"},
    {"science-diplomacy", "Science diplomacy", "science-and-technology"},
    {"economy", "Economy and trade", ""},
    {"energy", "Energy", "economy"},
    {"oil-and-gas", "Oil and gas", "energy"},
    {"transport", "Transport", "economy"},
    {"agriculture", "Agriculture", "economy"},
    {"culture", "Culture", ""},
    {"security", "Security and defence", ""},
};

}  // namespace

const std::vector<v1::CooperationArea>& CooperationAreas() {
  static const auto* areas = [] {
    auto* list = new std::vector<v1::CooperationArea>();
    for (const Term& term : kTerms) {
      v1::CooperationArea area;
      area.set_id(term.id);
      area.set_display_name(term.label);
      area.set_broader(term.broader);
      list->push_back(std::move(area));
    }
    return list;
  }();
  return *areas;
}

bool IsCooperationArea(absl::string_view id) {
  const auto& areas = CooperationAreas();
  return std::any_of(
      areas.begin(), areas.end(),
      [id](const v1::CooperationArea& area) { return area.id() == id; });
}

}  // namespace accord::agreement

#ifndef ACCORD_SERVICES_AGREEMENT_COOPERATION_AREAS_H_
#define ACCORD_SERVICES_AGREEMENT_COOPERATION_AREAS_H_

// The controlled vocabulary of cooperation areas. Agreements name areas by
// id; anything beyond the vocabulary goes into free keywords.

#include <vector>

#include "absl/strings/string_view.h"
#include "accord/agreement/v1/agreement.pb.h"

namespace accord::agreement {

const std::vector<v1::CooperationArea>& CooperationAreas();
bool IsCooperationArea(absl::string_view id);

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_COOPERATION_AREAS_H_

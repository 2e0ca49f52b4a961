#include "common/handler_support.h"

#include "common/record_store.h"
#include "common/status_macros.h"

namespace accord {

absl::StatusOr<const PageTokenCodec*> SharedPageTokenCodec::Get() {
  absl::MutexLock lock(&mutex_);
  if (codec_ == nullptr) {
    ACCORD_ASSIGN_OR_RETURN(
        std::string secret,
        LoadOrCreateSecret(redis_, redis_keys::kPageTokenSecret));
    codec_ = std::make_unique<PageTokenCodec>(std::move(secret));
  }
  return codec_.get();
}

}  // namespace accord

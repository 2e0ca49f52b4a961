#include "common/redis/connect.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/redis/hiredis_util.h"
#include "common/status_macros.h"

namespace accord {
namespace {

using redis_internal::CommandArgv;
using redis_internal::ContextPtr;
using redis_internal::ReplyPtr;

// "" if the command succeeded, else what went wrong.
std::string ErrorOf(redisContext* context, const redisReply* reply) {
  if (reply == nullptr) return context->errstr;
  if (reply->type == REDIS_REPLY_ERROR)
    return std::string(reply->str, reply->len);
  return "";
}

absl::StatusOr<ContextPtr> Open(const HostPort& address,
                                absl::Duration connect_timeout,
                                absl::Duration command_timeout) {
  ContextPtr context(redisConnectWithTimeout(address.host.c_str(), address.port,
                                             absl::ToTimeval(connect_timeout)));
  if (context == nullptr) {
    return absl::UnavailableError("cannot allocate a Redis context");
  }
  if (context->err != 0) {
    return absl::UnavailableError(
        absl::StrCat(address.ToString(), ": ", context->errstr));
  }
  redisSetTimeout(context.get(), absl::ToTimeval(command_timeout));
  redisEnableKeepAlive(context.get());
  return context;
}

std::string Login(redisContext* context, const RedisUrl& url) {
  if (url.password.empty()) return "";
  std::vector<std::string> auth = {"AUTH"};
  if (!url.user.empty()) auth.push_back(url.user);
  auth.push_back(url.password);
  ReplyPtr reply = CommandArgv(context, auth);
  return ErrorOf(context, reply.get());
}

// The address a Sentinel gives for the primary, or why not.
absl::StatusOr<HostPort> AskSentinel(const HostPort& sentinel,
                                     const RedisUrl& url,
                                     absl::Duration timeout) {
  ACCORD_ASSIGN_OR_RETURN(ContextPtr context, Open(sentinel, timeout, timeout));
  const std::vector<std::string> ask = {"SENTINEL", "get-master-addr-by-name",
                                        url.master_name};
  ReplyPtr reply = CommandArgv(context.get(), ask);
  std::string failure = ErrorOf(context.get(), reply.get());
  // A Sentinel with `requirepass` is given the data nodes' password.
  if (absl::StartsWith(failure, "NOAUTH") && !url.password.empty()) {
    ReplyPtr auth = CommandArgv(context.get(), {"AUTH", url.password});
    failure = ErrorOf(context.get(), auth.get());
    if (failure.empty()) {
      reply = CommandArgv(context.get(), ask);
      failure = ErrorOf(context.get(), reply.get());
    }
  }
  if (!failure.empty()) return absl::UnavailableError(failure);
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
    return absl::UnavailableError(absl::StrCat(
        "does not know a primary named \"", url.master_name, "\""));
  }
  HostPort primary;
  primary.host.assign(reply->element[0]->str, reply->element[0]->len);
  if (!absl::SimpleAtoi(
          std::string(reply->element[1]->str, reply->element[1]->len),
          &primary.port)) {
    return absl::UnavailableError("answered a malformed address");
  }
  return primary;
}

}  // namespace

absl::StatusOr<HostPort> PrimaryFromSentinels(const RedisUrl& url,
                                              absl::Duration timeout) {
  std::vector<std::string> failures;
  for (const HostPort& sentinel : url.sentinels) {
    absl::StatusOr<HostPort> primary = AskSentinel(sentinel, url, timeout);
    if (primary.ok()) return primary;
    failures.push_back(absl::StrCat("sentinel ", sentinel.ToString(), ": ",
                                    primary.status().message()));
  }
  return absl::UnavailableError(
      absl::StrCat("no Sentinel named the primary \"", url.master_name,
                   "\": ", absl::StrJoin(failures, "; ")));
}

absl::StatusOr<redisContext*> ConnectToPrimary(const RedisUrl& url,
                                               absl::Duration connect_timeout,
                                               absl::Duration command_timeout) {
  HostPort address{url.host, url.port};
  if (!url.sentinels.empty()) {
    ACCORD_ASSIGN_OR_RETURN(address,
                            PrimaryFromSentinels(url, connect_timeout));
  }
  ACCORD_ASSIGN_OR_RETURN(ContextPtr context,
                          Open(address, connect_timeout, command_timeout));
  std::string failure = Login(context.get(), url);
  if (failure.empty() && url.db != 0) {
    ReplyPtr reply =
        CommandArgv(context.get(), {"SELECT", absl::StrCat(url.db)});
    failure = ErrorOf(context.get(), reply.get());
  }
  if (failure.empty() && !url.sentinels.empty()) {
    ReplyPtr role = CommandArgv(context.get(), {"ROLE"});
    failure = ErrorOf(context.get(), role.get());
    if (failure.empty() &&
        (role->type != REDIS_REPLY_ARRAY || role->elements == 0 ||
         role->element[0]->type != REDIS_REPLY_STRING ||
         std::string(role->element[0]->str, role->element[0]->len) !=
             "master")) {
      failure = "is not the primary (yet): a failover is under way";
    }
  }
  if (!failure.empty()) {
    return absl::UnavailableError(
        absl::StrCat(address.ToString(), ": ", failure));
  }
  return context.release();
}

}  // namespace accord

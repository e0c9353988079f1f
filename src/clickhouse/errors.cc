#include "clickhouse/errors.h"

#include <string>

#include "core/cat.h"

namespace sluice::clickhouse {

int ParseErrorCode(std::string_view body) {
  size_t at = body.find("Code: ");
  if (at == std::string_view::npos) return -1;
  at += 6;
  int code = 0;
  bool any = false;
  while (at < body.size() && body[at] >= '0' && body[at] <= '9') {
    code = code * 10 + (body[at++] - '0');
    any = true;
  }
  return any ? code : -1;
}

int ParseErrorCode(const Status& s) {
  const auto m = s.message();
  return ParseErrorCode(std::string_view(m.data(), m.size()));
}

bool IsTableLevelCode(int code) {
  switch (code) {
    case 8:    // THERE_IS_NO_COLUMN
    case 16:   // NO_SUCH_COLUMN_IN_TABLE
    case 47:   // UNKNOWN_IDENTIFIER
    case 60:   // UNKNOWN_TABLE
    case 81:   // UNKNOWN_DATABASE
    case 164:  // READONLY
    case 192:  // UNKNOWN_USER
    case 193:  // WRONG_PASSWORD
    case 194:  // REQUIRED_PASSWORD
    case 195:  // IP_ADDRESS_NOT_ALLOWED
    case 291:  // DATABASE_ACCESS_DENIED
    case 497:  // ACCESS_DENIED
    case 516:  // AUTHENTICATION_FAILED
      return true;
    default: return false;
  }
}

bool IsPressureCode(int code) { return code == 252 || code == 202 || code == 203; }

bool IsViewRejection(std::string_view message) {
  return message.find("while pushing to view") != std::string_view::npos;
}

bool IsRetryableCode(int code, std::string_view message) {
  switch (code) {
    // Transient, overload, network, Keeper and shutdown conditions.
    case 3:
    case 32:  // truncated stream: the transport was cut
    case 159:
    case 173:
    case 201:
    case 202:
    case 203:
    case 209:
    case 210:
    case 216:
    case 225:
    case 236:
    case 241:
    case 242:
    case 243:
    case 244:
    case 279:
    case 285:
    case 286:
    case 289:
    case 319:
    case 341:
    case 364:
    case 373:
    case 394:
    case 425:
    case 439:
    case 473:
    case 733:
    case 745:
    case 999:
    case 1000:
    case 1001:
    case 1002: return true;
    case 252:  // too many parts: back off; too many partitions per block: permanent
      return message.find("partitions for single INSERT") == std::string_view::npos;
    default: return false;
  }
}

Status StatusFromResponse(int http_status, std::string_view body) {
  std::string text(body.substr(0, 2000));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  int code = ParseErrorCode(body);
  if (code < 0) {
    // No ClickHouse code: a proxy or the HTTP layer answered.
    if (http_status == 502 || http_status == 503 || http_status == 504 || http_status == 408 ||
        http_status == 429)
      return absl::UnavailableError(Cat("ClickHouse HTTP ", http_status, ": ", text));
    return absl::FailedPreconditionError(Cat("ClickHouse HTTP ", http_status, ": ", text));
  }
  return StatusFromException(code, text);
}

Status StatusFromException(int code, std::string_view text) {
  text = text.substr(0, 2000);
  if (IsRetryableCode(code, text)) return absl::UnavailableError(Cat("ClickHouse: ", text));
  return absl::InvalidArgumentError(Cat("ClickHouse: ", text));
}

}  // namespace sluice::clickhouse

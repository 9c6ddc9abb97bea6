#include "server/judge/http/http_types.h"

namespace rewardd {

std::shared_ptr<const HttpHeaders> HttpHeaders::Make(
    const std::vector<std::string>& lines) {
  std::shared_ptr<HttpHeaders> h(new HttpHeaders());
  for (const std::string& line : lines) {
    h->list_ = curl_slist_append(h->list_, line.c_str());
  }
  return h;
}

HttpHeaders::~HttpHeaders() { curl_slist_free_all(list_); }

}  // namespace rewardd

// The HTTP endpoint Prometheus scrapes (GET /metrics, text format 0.0.4),
// on prometheus-cpp's embedded civetweb server with its own threads, so a
// scrape never runs on a gRPC thread.
//
//   absl::StatusOr<std::unique_ptr<MetricsServer>> server =
//       MetricsServer::Start("0.0.0.0:9464", metrics.collectable());
//   if (!server.ok()) { /* port taken, bad address */ }
//   int port = (*server)->port();   // the bound port (address port 0 works)
//
// Thread-safety: Start() and port() may be called from any thread; the
// server stops when the object is destroyed.
#ifndef REWARDD_SERVER_METRICS_METRICS_SERVER_H_
#define REWARDD_SERVER_METRICS_METRICS_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"

namespace rewardd {

class MetricsServer {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one) and serves
  // `collectable` at /metrics. Keeps `collectable` alive.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& address,
      std::shared_ptr<prometheus::Collectable> collectable);

  int port() const { return port_; }

 private:
  MetricsServer() = default;

  std::shared_ptr<prometheus::Collectable> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_METRICS_SERVER_H_

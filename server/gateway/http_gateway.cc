#include "server/gateway/http_gateway.h"

#include <httplib.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <fstream>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "server/gateway/bounded_task_queue.h"
#include "server/gateway/gateway_handlers.h"

namespace rewardd {
namespace {

using Handler = HttpReply (GatewayHandlers::*)(const httplib::Request&);

struct Endpoint {
  const char* path;
  const char* method;  // the one method allowed
  Handler handler;
};

constexpr std::array<Endpoint, 5> kEndpoints = {{
    {"/v1/grade", "POST", &GatewayHandlers::Grade},
    {"/v1/grade_group", "POST", &GatewayHandlers::GradeGroup},
    {"/v1/openrlhf", "POST", &GatewayHandlers::OpenRlhf},
    {"/v1/slime", "POST", &GatewayHandlers::Slime},
    {"/healthz", "GET", &GatewayHandlers::Health},
}};

// The endpoint label for metrics: a known path, or "other" (unbounded
// paths must not become label values).
std::string_view EndpointLabel(const std::string& path) {
  for (const Endpoint& e : kEndpoints) {
    if (path == e.path) return e.path;
  }
  return "other";
}

void Send(const HttpReply& reply, httplib::Response& res) {
  res.status = reply.status;
  // With a charset parameter httplib does not gzip the body for clients
  // that accept gzip (python-requests, aiohttp): answers are small, and
  // compressing them would cost the gateway CPU for nothing on a cluster
  // network.
  res.set_content(reply.body, "application/json; charset=utf-8");
}

void SendError(int http_status, std::string code, std::string message,
               httplib::Response& res) {
  Send(HttpReply::Error(
           HttpError{http_status, std::move(code), std::move(message)}),
       res);
}

// Runs on the reject thread of BoundedTaskQueue: every thread is busy and
// the queue is full.
bool RejectIfOverloaded(int retry_after_seconds, httplib::Response& res) {
  if (!BoundedTaskQueue::IsRejectThread()) return false;
  SendError(503, "UNAVAILABLE",
            "the HTTP gateway is at its limit of connections (threads and "
            "queue full); retry later",
            res);
  res.set_header("Retry-After", absl::StrCat(retry_after_seconds));
  res.set_header("Connection", "close");
  return true;
}

// Answers for statuses httplib sets itself (404 unknown path, 413 body too
// large, 400 unreadable request) get the JSON error body too.
httplib::Server::HandlerResponse OnError(size_t max_body_bytes,
                                         const httplib::Request& req,
                                         httplib::Response& res) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
  if (res.status == 413) {
    SendError(413, "PAYLOAD_TOO_LARGE",
              absl::StrCat("the request body is over ", max_body_bytes,
                           " bytes (the gateway's max_body_bytes)"),
              res);
  } else if (res.status == 404) {
    std::vector<std::string> paths;
    for (const Endpoint& e : kEndpoints) {
      paths.push_back(absl::StrCat(e.method, " ", e.path));
    }
    SendError(404, "NOT_FOUND",
              absl::StrCat("no endpoint ", req.path, "; there are ",
                           absl::StrJoin(paths, ", ")),
              res);
  } else {
    SendError(res.status, "BAD_REQUEST",
              absl::StrCat("the HTTP request could not be read (status ",
                           res.status, ")"),
              res);
  }
  return httplib::Server::HandlerResponse::Handled;
}

absl::Status CheckReadable(const std::string& field, const std::string& path) {
  if (std::ifstream(path).good()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("GatewayOptions.", field, ": cannot read '", path, "'"));
}

absl::StatusOr<std::unique_ptr<httplib::Server>> NewServer(
    const GatewayOptions& options) {
  if (options.tls_cert_file.empty()) return std::make_unique<httplib::Server>();
  for (const auto& [field, path] :
       {std::pair{"tls_cert_file", options.tls_cert_file},
        std::pair{"tls_key_file", options.tls_key_file}}) {
    if (absl::Status s = CheckReadable(field, path); !s.ok()) return s;
  }
  auto server = std::make_unique<httplib::SSLServer>(
      options.tls_cert_file.c_str(), options.tls_key_file.c_str());
  if (!server->is_valid()) {
    return absl::InvalidArgumentError(
        "GatewayOptions.tls_cert_file / tls_key_file: not a PEM certificate "
        "and its matching private key");
  }
  return server;
}

void AddRoutes(const GatewayOptions& options, GatewayHandlers* handlers,
               httplib::Server& server) {
  const int retry_after = options.retry_after_seconds;
  for (const Endpoint& e : kEndpoints) {
    Handler method = e.handler;
    auto serve = [handlers, method, retry_after](const httplib::Request& req,
                                                 httplib::Response& res) {
      if (RejectIfOverloaded(retry_after, res)) return;
      Send((handlers->*method)(req), res);
    };
    const std::string allowed = e.method;
    auto wrong_method = [allowed, retry_after](const httplib::Request& req,
                                               httplib::Response& res) {
      if (RejectIfOverloaded(retry_after, res)) return;
      SendError(405, "METHOD_NOT_ALLOWED",
                absl::StrCat(req.method, " ", req.path, ": use ", allowed),
                res);
      res.set_header("Allow", allowed);
    };
    const bool post = allowed == "POST";
    server.Get(e.path, post ? httplib::Server::Handler(wrong_method) : serve);
    server.Post(e.path, post ? httplib::Server::Handler(serve) : wrong_method);
    server.Put(e.path, wrong_method);
    server.Patch(e.path, wrong_method);
    server.Delete(e.path, wrong_method);
    server.Options(e.path, wrong_method);
  }
}

// cpp-httplib listens with a backlog of 5: a trainer whose HTTP pool opens
// dozens of connections at once overflows it, and the kernel drops the
// extra handshakes (clients see seconds of SYN retries, or a connection
// reset after sending their request). Linux lets listen() be called again
// to raise the backlog of a listening socket; Start() does so with this
// (the kernel caps it at net.core.somaxconn).
constexpr int kListenBacklog = 4096;

// `listen_fd` receives the listening socket, for Start() to raise its
// backlog after binding.
void Configure(const GatewayOptions& options, httplib::Server& server,
               std::shared_ptr<std::atomic<int>> listen_fd) {
  const int threads = options.threads;
  const int max_queued = options.max_queued;
  server.new_task_queue = [threads, max_queued] {
    return new BoundedTaskQueue(threads, max_queued);
  };
  // httplib writes the head and the body of an answer separately: without
  // TCP_NODELAY the body waits for the client's delayed ACK of the head.
  server.set_tcp_nodelay(true);
  // cpp-httplib's default also sets SO_REUSEPORT, which would let a second
  // process bind the same port and silently take half the connections.
  server.set_socket_options([listen_fd](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd->store(sock);
  });
  server.set_payload_max_length(options.max_body_bytes);
  server.set_keep_alive_max_count(
      static_cast<size_t>(options.keep_alive_max_requests));
  server.set_keep_alive_timeout(
      absl::ToInt64Seconds(options.keep_alive_timeout));
  const int64_t io = absl::ToInt64Seconds(options.io_timeout);
  server.set_read_timeout(io, 0);
  server.set_write_timeout(io, 0);
  const size_t max_body = options.max_body_bytes;
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body](const httplib::Request& req, httplib::Response& res) {
        return OnError(max_body, req, res);
      }));
  if (options.on_request) {
    auto on_request = options.on_request;
    server.set_logger([on_request](const httplib::Request& req,
                                   const httplib::Response& res) {
      on_request(EndpointLabel(req.path), res.status);
    });
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(
    GatewayOptions options, std::shared_ptr<grpc::Channel> channel) {
  if (absl::Status s = ValidateGatewayOptions(options); !s.ok()) return s;
  if (channel == nullptr) {
    return absl::InvalidArgumentError("HttpGateway::Start: channel is null");
  }
  absl::StatusOr<std::unique_ptr<httplib::Server>> server = NewServer(options);
  if (!server.ok()) return server.status();
  std::unique_ptr<HttpGateway> gateway(new HttpGateway());
  gateway->scheme_ = options.tls_cert_file.empty() ? "http" : "https";
  gateway->handlers_ =
      std::make_unique<GatewayHandlers>(options, std::move(channel));
  gateway->server_ = *std::move(server);
  auto listen_fd = std::make_shared<std::atomic<int>>(-1);
  Configure(options, *gateway->server_, listen_fd);
  AddRoutes(options, gateway->handlers_.get(), *gateway->server_);
  int port = options.port;
  if (port == 0) {
    port = gateway->server_->bind_to_any_port(options.listen_address);
  } else if (!gateway->server_->bind_to_port(options.listen_address, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("HTTP gateway: cannot listen on ", options.listen_address,
                     ":", options.port));
  }
  if (listen_fd->load() >= 0) ::listen(listen_fd->load(), kListenBacklog);
  gateway->port_ = port;
  httplib::Server* raw = gateway->server_.get();
  auto returned = std::make_shared<std::atomic<bool>>(false);
  gateway->listener_ = std::thread([raw, returned] {
    raw->listen_after_bind();
    returned->store(true);
  });
  // stop() is a no-op until the listen loop runs, so Stop() right after
  // Start() would otherwise hang; the loop starts at once.
  while (!raw->is_running() && !returned->load()) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (returned->load()) {
    return absl::InternalError("HTTP gateway: the listen loop ended at once");
  }
  return gateway;
}

HttpGateway::~HttpGateway() { Stop(); }

void HttpGateway::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (server_ != nullptr) server_->stop();
  if (listener_.joinable()) listener_.join();
}

}  // namespace rewardd

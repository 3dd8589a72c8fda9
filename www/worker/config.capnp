# workerd configuration of the AkiDB REST worker (tests, benchmark, self-hosting).
#
#   node_modules/.bin/workerd serve www/worker/config.capnp --socket-addr http=127.0.0.1:8787
#
# The wasm is a module of the worker (Workers forbid compiling wasm from bytes). S3 settings
# and API keys come from the process environment; fetch() to S3 goes through the "internet"
# service, which also allows local addresses (a local S3 server in tests).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .akidbWorker),
    (name = "internet", network = (allow = ["public", "local"])),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:8787", http = (), service = "main"),
  ],
);

const akidbWorker :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "src/index.js"),
    (name = "app.js", esModule = embed "src/app.js"),
    (name = "auth.js", esModule = embed "src/auth.js"),
    (name = "config.js", esModule = embed "src/config.js"),
    (name = "http.js", esModule = embed "src/http.js"),
    (name = "routes.js", esModule = embed "src/routes.js"),
    # The npm package's workerd entry, under the name the worker imports.
    (name = "akidb", esModule = embed "../../pkg/workerd.js"),
    (name = "wasm/akidb.js", esModule = embed "../../pkg/wasm/akidb.js"),
    (name = "wasm/akidb_bg.wasm", wasm = embed "../../pkg/wasm/akidb_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  globalOutbound = "internet",
  bindings = [
    (name = "S3_ENDPOINT", fromEnvironment = "AKIDB_S3_ENDPOINT"),
    (name = "S3_REGION", fromEnvironment = "AKIDB_S3_REGION"),
    (name = "S3_BUCKET", fromEnvironment = "AKIDB_S3_BUCKET"),
    (name = "S3_PREFIX", fromEnvironment = "AKIDB_S3_PREFIX"),
    (name = "S3_ACCESS_KEY_ID", fromEnvironment = "AKIDB_S3_ACCESS_KEY_ID"),
    (name = "S3_SECRET_ACCESS_KEY", fromEnvironment = "AKIDB_S3_SECRET_ACCESS_KEY"),
    (name = "S3_SESSION_TOKEN", fromEnvironment = "AKIDB_S3_SESSION_TOKEN"),
    (name = "S3_FORCE_PATH_STYLE", fromEnvironment = "AKIDB_S3_FORCE_PATH_STYLE"),
    (name = "API_KEYS", fromEnvironment = "AKIDB_API_KEYS"),
    (name = "MAX_BODY_BYTES", fromEnvironment = "AKIDB_MAX_BODY_BYTES"),
    (name = "RETRY_MAX_RETRIES", fromEnvironment = "AKIDB_RETRY_MAX_RETRIES"),
    (name = "RETRY_MAX_ELAPSED_MS", fromEnvironment = "AKIDB_RETRY_MAX_ELAPSED_MS"),
    (name = "RETRY_MAX_BACKOFF_MS", fromEnvironment = "AKIDB_RETRY_MAX_BACKOFF_MS"),
    (name = "RETRY_INITIAL_BACKOFF_MS", fromEnvironment = "AKIDB_RETRY_INITIAL_BACKOFF_MS"),
    (name = "RETRY_JITTER", fromEnvironment = "AKIDB_RETRY_JITTER"),
    (name = "GROUP_COMMIT", fromEnvironment = "AKIDB_GROUP_COMMIT"),
    (name = "GROUP_COMMIT_POLL_MS", fromEnvironment = "AKIDB_GROUP_COMMIT_POLL_MS"),
    (name = "GROUP_COMMIT_LEASE_MS", fromEnvironment = "AKIDB_GROUP_COMMIT_LEASE_MS"),
    (name = "LOG_LEVEL", fromEnvironment = "AKIDB_LOG_LEVEL"),
    (name = "AUTO_COMPACT", fromEnvironment = "AKIDB_AUTO_COMPACT"),
    (name = "CORS_ORIGINS", fromEnvironment = "AKIDB_CORS_ORIGINS"),
  ],
);

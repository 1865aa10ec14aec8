#!/usr/bin/env bash
# The multi-instance load benchmark: N instances of the bot on one standalone engine (FerretDB on
# SQLite, `privacybot engine`: the only MongoDB-compatible server available here), the load tool
# spreading events over them like a load balancer.
# usage: docs/bench/instances.sh N RATE USERS DURATION   e.g. docs/bench/instances.sh 3 300 1000 30s
# USERS should not be a multiple of N, so that a customer's events land on every instance in turn.
set -u
cd "$(dirname "$0")/../.."
N=$1; RATE=$2; USERS=$3; DUR=$4
go build -o /tmp/privacybot ./cmd/privacybot && go build -o /tmp/linesim ./cmd/linesim || exit 1
D=$(mktemp -d /tmp/privacybot-instances.XXXX)
env PPROF_ADDR=${ENGINE_PPROF:-} /tmp/privacybot engine $D/engine 127.0.0.1:27018 > $D/engine.log 2>&1 &
ENGINE=$!
sleep 1
PIDS=(); URLS=()
for i in $(seq 1 "$N"); do
  PORT=$((8100 + i))
  env DOCUMENT_KEY="$(head -c 32 /dev/urandom | base64)" PORT=$PORT MONGODB_URI=mongodb://127.0.0.1:27018/ INSTANCE_ID=i$i \
    METRICS_ADDR=off PPROF_ADDR=${BOT_PPROF:+127.0.0.1:$((6080 + i))} LINE_CHANNEL_SECRET=loadsecret LINE_CHANNEL_ACCESS_TOKEN=loadtoken \
    LINE_API_BASE_URL=http://127.0.0.1:9091 LINE_API_DATA_BASE_URL=http://127.0.0.1:9091 LOG_LEVEL=warn \
    /tmp/privacybot > $D/bot$i.log 2>&1 &
  PIDS+=($!); URLS+=("http://127.0.0.1:$PORT/callback")
done
for i in $(seq 1 "$N"); do
  for _ in $(seq 1 100); do curl -sf localhost:$((8100 + i))/readyz >/dev/null && break; sleep 0.1; done
done
for p in "${PIDS[@]}"; do echo "idle RSS of $p: $(grep VmRSS /proc/$p/status)"; done
/tmp/linesim load -bot "$(IFS=,; echo "${URLS[*]}")" -secret loadsecret -token loadtoken \
  -api-addr 127.0.0.1:9091 -rate "$RATE" -users "$USERS" -duration "$DUR" -drain 30s
for p in "${PIDS[@]}"; do echo "RSS after the run of $p: $(grep VmRSS /proc/$p/status)"; kill -TERM $p; done
for p in "${PIDS[@]}"; do wait $p; done
kill -TERM $ENGINE; wait $ENGINE
echo "logs and engine files: $D"

#!/usr/bin/env bash
# The load benchmark: a fresh embedded store, the bot pointed at the load tool's fake Messaging API.
# usage: docs/bench/load.sh RATE USERS DURATION [ENV=VALUE ...]   e.g. docs/bench/load.sh 1500 1000 30s
# Builds both binaries into /tmp; keeps everything on loopback; stops the bot gracefully at the end.
set -u
cd "$(dirname "$0")/../.."
RATE=$1; USERS=$2; DUR=$3; shift 3
go build -o /tmp/privacybot ./cmd/privacybot && go build -o /tmp/linesim ./cmd/linesim || exit 1
D=$(mktemp -d /tmp/privacybot-load.XXXX)
env DOCUMENT_KEY="$(head -c 32 /dev/urandom | base64)" "$@" PORT=8088 DATA_DIR=$D/data LINE_CHANNEL_SECRET=loadsecret LINE_CHANNEL_ACCESS_TOKEN=loadtoken \
  LINE_API_BASE_URL=http://127.0.0.1:9091 LINE_API_DATA_BASE_URL=http://127.0.0.1:9091 LOG_LEVEL=warn \
  /tmp/privacybot > $D/bot.log 2>&1 &
BOT=$!
for _ in $(seq 1 100); do curl -sf localhost:8088/readyz >/dev/null && break; sleep 0.1; done
echo "idle RSS: $(grep VmRSS /proc/$BOT/status)"
/tmp/linesim load -bot http://127.0.0.1:8088/callback -secret loadsecret -token loadtoken \
  -api-addr 127.0.0.1:9091 -rate "$RATE" -users "$USERS" -duration "$DUR" -drain 20s
echo "RSS after the run: $(grep VmRSS /proc/$BOT/status)"
kill -TERM $BOT; wait $BOT
echo "bot log and store: $D"

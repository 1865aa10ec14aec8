#!/usr/bin/env bash
# How answers and memory change with the number of stored customers: seed N customers (one message
# each), restart the bot on that store, then 1,500 events/s from 1,000 new customers for 30 s.
# usage: docs/bench/scale.sh N   (SEED_RATE, default 1500, sets the seeding rate; KEEP=1 keeps the store)
set -u
cd "$(dirname "$0")/../.."
N=$1
go build -o /tmp/privacybot ./cmd/privacybot && go build -o /tmp/linesim ./cmd/linesim || exit 1
D=$(mktemp -d /tmp/privacybot-scale.XXXX)
ENVS="PORT=8089 DATA_DIR=$D/data LINE_CHANNEL_SECRET=s LINE_CHANNEL_ACCESS_TOKEN=t LINE_API_BASE_URL=http://127.0.0.1:9092 LINE_API_DATA_BASE_URL=http://127.0.0.1:9092 LOG_LEVEL=warn"
ENVS="$ENVS DOCUMENT_KEY=$(head -c 32 /dev/urandom | base64)"
ms() { echo $(( ($(date +%s%N)-$1)/1000000 )); }
start() {
  env $ENVS /tmp/privacybot >> $D/bot.log 2>&1 & BOT=$!
  T0=$(date +%s%N)
  for _ in $(seq 1 1500); do curl -sf localhost:8089/readyz >/dev/null && break; sleep 0.02; done
  echo "ready after $(ms $T0) ms"
}
stop() { T0=$(date +%s%N); kill -TERM $BOT; wait $BOT; echo "stopped in $(ms $T0) ms"; }
SEED_RATE=${SEED_RATE:-1500}
start
/tmp/linesim load -bot http://127.0.0.1:8089/callback -secret s -token t -api-addr 127.0.0.1:9092 \
  -rate $SEED_RATE -users $N -max-events $N -duration $(( N / SEED_RATE + 2 ))s -drain 60s -line-limits=false \
  | grep -E 'acked|non-200|answered |LOST|DOUBLED'
stop
echo "store on disk with $N customers: $(du -sm $D/data | cut -f1) MB"
start
sleep 3
echo "idle RSS with $N stored: $(grep VmRSS /proc/$BOT/status)"
/tmp/linesim load -bot http://127.0.0.1:8089/callback -secret s -token t -api-addr 127.0.0.1:9092 \
  -rate 1500 -users 1000 -duration 30s -drain 20s
echo "RSS after the run: $(grep VmRSS /proc/$BOT/status)"
stop
echo "store on disk after 45,000 more events: $(du -sm $D/data | cut -f1) MB"
if [ "${KEEP:-}" = 1 ]; then echo "store kept in $D"; else rm -rf "$D"; fi

#!/bin/bash
# 10-minute saturated load; samples the runner's RSS every 10 s.
E=/work/main/.cache/venv/lib/python3.11/site-packages/envoy/_bin/envoy
taskset -c 0 $E -c envoy.yaml --concurrency 1 --disable-hot-restart -l warning > envoy.log 2>&1 &
EP=$!
sleep 1
cp "$(dirname "$0")/../../../target/debug/bench-runner" ./bench-runner-copy
./bench-runner-copy load http://127.0.0.1:19950/ -c 16 -d 600s --warmup 1s --cpu 1 --expect-body passthrough --json > load.json 2> load.err &
LP=$!
: > rss.txt
while kill -0 $LP 2>/dev/null; do
  grep -E "VmRSS|VmHWM" /proc/$LP/status | tr '\n' ' ' >> rss.txt; echo " t=$(date +%s)" >> rss.txt
  sleep 10
done
kill $EP; wait
echo finished >> rss.txt

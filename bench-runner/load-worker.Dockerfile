# The load worker image for `bench-runner k8s`: bench-runner on PATH, nothing else it needs at run time
# (the load generator is part of the binary; no Envoy, no plugin toolchains). Not built by the tests.
#
#   docker build -f bench-runner/load-worker.Dockerfile -t REGISTRY/bench-runner:TAG .
#   docker push REGISTRY/bench-runner:TAG
#   bench-runner k8s --image REGISTRY/bench-runner:TAG --target http://GATEWAY/ --workers 4 --rate 500 --duration 60s --out job.yaml
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p bench-runner --bin bench-runner

FROM debian:bookworm-slim
COPY --from=build /src/target/release/bench-runner /usr/local/bin/bench-runner
USER 65534:65534
ENTRYPOINT ["bench-runner"]

# syntax=docker/dockerfile:1
# patitas-etl for Cloud Run (or any container host): `docker build -t patitas-etl .`

# ---- build stage: compilers, -dev packages, the full build and its unit tests ----
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates \
      libcurl4-openssl-dev libmicrohttpd-dev libjansson-dev libsqlite3-dev libmariadb-dev \
      libcmocka-dev tzdata \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" \
 && (cd /build && ctest --output-on-failure -L unit) \
 && install -D -m 0755 /build/patitas-etl /out/usr/local/bin/patitas-etl \
 && strip /out/usr/local/bin/patitas-etl

# ---- runtime stage: only the shared libraries the binary needs ----
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcurl4 libmicrohttpd12 libjansson4 libsqlite3-0 libmariadb3 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 patitas \
 && useradd --system --uid 10001 --gid patitas --home-dir /var/lib/patitas-etl \
      --create-home --shell /usr/sbin/nologin patitas
COPY --from=build /out/ /
USER 10001:10001
WORKDIR /var/lib/patitas-etl
# Cloud Run sets PORT; HOST defaults to all interfaces. Logs go to stderr as JSON for
# Cloud Logging. DATABASE_URL, BSALE_API_TOKEN and ETL_API_TOKEN come from Secret Manager.
ENV HOST=0.0.0.0 PORT=8000 LOG_FORMAT=json TZ=UTC
EXPOSE 8000
STOPSIGNAL SIGTERM
CMD ["patitas-etl", "serve"]

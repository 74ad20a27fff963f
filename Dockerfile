# The production image: one image runs the API, the scheduler and the migrations.
#   docker compose up                       the documented quick start (compose.yaml)
#   docker run IMAGE db upgrade | serve | scheduler | config check | users add ...
# Configuration: /etc/alpr_guard/alpr_guard.toml (config/production.example.toml) with the
# profiles, screening rules and agency registry beside it; mount your own file over it.
# Secrets come from the environment: ALPR_GUARD_DATABASE_URL and ALPR_GUARD_MASTER_KEY.
# The key store and the signed checkpoints are volumes of their own, never inside the database
# volume and never in its backups. docs/deployment.md explains the choices.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY alpr_guard ./alpr_guard
RUN pip install --no-cache-dir build \
 && python -m build --wheel --outdir /dist \
 && pip wheel --no-cache-dir --wheel-dir /wheels "$(ls /dist/alpr_guard-*.whl)[postgres]"

FROM python:3.11-slim
# The second checkpoint directory of the shipped config is /mnt/audit-witness/alpr_guard: mount
# storage of another host at /mnt/audit-witness (a directory alpr_guard in it writable by uid
# 10001); compose.yaml gives it a volume of its own until then.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/alpr_guard --no-create-home alpr \
 && install -d -o alpr -g alpr -m 0700 /var/lib/alpr_guard \
      /var/lib/alpr_guard/keystore /var/lib/alpr_guard/checkpoints /mnt/audit-witness/alpr_guard \
 && install -d -m 0755 /etc/alpr_guard
COPY --from=build /wheels /wheels
# Runtime dependencies only (the [postgres] driver, no developer tools), from the built wheels.
RUN pip install --no-cache-dir --no-index --find-links /wheels "alpr_guard[postgres]" \
 && rm -rf /wheels
# Every policy profile, so switching `profile` is a config change, not an image rebuild.
COPY config/california.toml config/illinois.toml config/virginia.toml config/oregon.toml \
     config/minnesota.toml config/washington.toml config/maine.toml config/new-hampshire.toml \
     config/rules.california.toml config/screening-model.california.json config/agencies.toml \
     /etc/alpr_guard/
COPY config/production.example.toml /etc/alpr_guard/alpr_guard.toml
ENV ALPR_GUARD_CONFIG=/etc/alpr_guard/alpr_guard.toml ALPR_GUARD_HOST=0.0.0.0 ALPR_GUARD_PORT=8080 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
VOLUME ["/var/lib/alpr_guard/keystore", "/var/lib/alpr_guard/checkpoints", "/mnt/audit-witness"]
USER alpr
WORKDIR /var/lib/alpr_guard
EXPOSE 8080
# Readiness, not mere liveness: database, schema at head, key store, checkpoint age.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('ALPR_GUARD_PORT', '8080'), timeout=4)"]
ENTRYPOINT ["alpr-guard"]
CMD ["serve"]

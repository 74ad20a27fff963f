# One image runs `serve`, `scheduler` or `db upgrade`:
#   docker run IMAGE serve --host 0.0.0.0      docker run IMAGE db upgrade
# Configuration comes from ALPR_GUARD_CONFIG; the master key from a secret (file or env);
# the key store lives on its own volume, never inside the database volume.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY alpr_guard ./alpr_guard
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /wheels \
 && pip wheel --no-cache-dir --wheel-dir /wheels "psycopg[binary]>=3.1"

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /var/lib/alpr_guard alpr \
 && mkdir -p /var/lib/alpr_guard/keystore /etc/alpr_guard \
 && chown -R alpr /var/lib/alpr_guard && chmod 700 /var/lib/alpr_guard/keystore
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY config/california.toml config/production.example.toml /etc/alpr_guard/
ENV ALPR_GUARD_CONFIG=/etc/alpr_guard/alpr_guard.toml PYTHONUNBUFFERED=1
USER alpr
EXPOSE 8080
ENTRYPOINT ["alpr-guard"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]

# One image for every Wattline process. Compose (or Kubernetes) picks the process with the
# command: `python -m wattline_<service>` for a service, `wattline migrate` / `wattline topics`
# for the one-shot jobs.

# ---------------------------------------------------------------------------------------------
# Back office: the web app the gateway serves at /backoffice/, built by Vite from the locked npm
# dependencies (the same `npm ci` + `npm run build` as `make backoffice`).
# ---------------------------------------------------------------------------------------------
FROM node:20-slim AS backoffice

WORKDIR /backoffice
COPY backoffice/package.json backoffice/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY backoffice/ ./
RUN npm run build

# ---------------------------------------------------------------------------------------------
# Builder: resolve the locked dependency set into /app/.venv with uv.
# ---------------------------------------------------------------------------------------------
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1

RUN pip install uv

WORKDIR /app

# The workspace members are installed editable: their sources stay where they are copied here,
# and the runtime stage copies /app as a whole so the paths in the venv stay valid.
COPY pyproject.toml uv.lock ./
COPY libs/ libs/
COPY contracts/ contracts/
COPY services/ services/
COPY src/ src/
COPY deploy/ deploy/

RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev \
    && /app/.venv/bin/python -m compileall -q libs contracts services src

# ---------------------------------------------------------------------------------------------
# Runtime: the same Python at the same path, the venv and the source tree, a non-root user.
# ---------------------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime

RUN groupadd --system --gid 10001 wattline \
    && useradd --system --uid 10001 --gid wattline --create-home --home-dir /home/wattline \
       --shell /usr/sbin/nologin wattline

COPY --from=builder /app /app
# The gateway looks for the build at <checkout>/backoffice/dist (bootstrap.py), here /app.
COPY --from=backoffice /backoffice/dist /app/backoffice/dist

ENV PATH=/app/.venv/bin:$PATH \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json

WORKDIR /app
USER wattline

EXPOSE 8000 8101 8102 8103 8104 8105 8106

CMD ["wattline", "--help"]

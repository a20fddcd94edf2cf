# The image of the compose stack (docker-compose.yml): a gateway by default; with another command, a
# Ray node; built with ONSALE_EXTRAS=embedded, also the development Stripe API (localstripe).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The processes run as a user of their own, owning the data directory (a volume first mounted
# there takes its owner).
RUN useradd --create-home --uid 10001 --user-group onsale \
    && install --directory --owner=onsale --group=onsale /var/lib/onsale /var/lib/onsale/solana

WORKDIR /app

# The dependencies first, at the versions of the lock: a change of code alone reuses this layer.
ARG ONSALE_EXTRAS=""
COPY pyproject.toml constraints.txt deploy/requirements.py ./
RUN python requirements.py pyproject.toml $ONSALE_EXTRAS > requirements.txt \
    && pip install --constraint constraints.txt --requirement requirements.txt

COPY README.md LICENSE ./
COPY engine engine
COPY persistence persistence
COPY minting minting
COPY notifications notifications
COPY payments payments
COPY services services
COPY actors actors
COPY gateway gateway
COPY embedded embedded
COPY loadtests loadtests
COPY onsale onsale
RUN pip install --no-deps .

USER onsale
ENV ONSALE_DATA_DIR=/var/lib/onsale \
    ONSALE_HOST=0.0.0.0 \
    ONSALE_PORT=8000
EXPOSE 8000
# Ready: the gateway's Postgres, Redis and Ray answer (GET /health/ready is 200, else 503).
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['ONSALE_PORT'] + '/health/ready', timeout=4)"
CMD ["onsale", "up"]

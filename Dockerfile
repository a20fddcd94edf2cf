# The gateway image of the production-like stack; the same image runs Ray workers.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine engine
COPY actors actors
COPY persistence persistence
COPY minting minting
COPY notifications notifications
COPY payments payments
COPY services services
COPY gateway gateway
COPY embedded embedded
COPY loadtests loadtests
COPY onsale onsale
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["onsale", "up"]

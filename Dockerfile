# The tdex Python image: the exchange service (`tdex serve`), department nodes (`tdex node serve`)
# and the one-shot contract deployment (`tdex chain deploy`). Node/npm are build-time tools of the
# contracts only; the committed artifacts in contracts/build are what runs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md ./
COPY tdex ./tdex
COPY contracts ./contracts
COPY ledger ./ledger
COPY keys ./keys
COPY tlog ./tlog
COPY credentials ./credentials
COPY sandbox ./sandbox
COPY exchange_api ./exchange_api
COPY bench ./bench
RUN pip install --no-deps . && useradd --uid 1000 --create-home tdex
USER tdex
EXPOSE 8000 9000
CMD ["tdex", "serve", "--host", "0.0.0.0", "--port", "8000"]

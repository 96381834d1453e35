FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemakg schemakg
# Set PIP_EXTRA_INDEX_URL to a CPU wheel index at build time for a smaller torch.
ARG PIP_EXTRA_INDEX_URL=""
RUN pip install --no-cache-dir .
ENV SCHEMAKG_DATA_DIR=/data
EXPOSE 8000
CMD ["schemakg", "serve", "--host", "0.0.0.0", "--port", "8000"]

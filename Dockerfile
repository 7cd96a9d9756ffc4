# One image for all four services; the Deployment picks the app with its command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY libs libs
COPY services services
RUN pip install --no-cache-dir . && useradd --system tanhui
USER tanhui
ENV TANHUI_ENV=production
EXPOSE 8000

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e . \
 && ONESTOP_ENV=development python manage.py collectstatic --noinput --verbosity 0 \
 && useradd --system --uid 10001 onestop && chown -R onestop /app \
 && mkdir -p /var/lib/onestop/audit && chown -R onestop /var/lib/onestop
USER onestop
EXPOSE 8000
CMD ["gunicorn", "onestop.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]

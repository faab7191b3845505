# The one image docker-compose.yml runs as web (gunicorn), worker and beat (Celery), and migrate.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SOCIALDESK_VAR_DIR=/app/var

RUN useradd --system --create-home --home-dir /home/socialdesk socialdesk
WORKDIR /app

COPY . .
# Editable, so the code runs from /app, where the settings find templates/, static/ and locale/
# beside it (a plain `pip install .` would import it from site-packages, away from them).
RUN pip install --editable .

# Static files are collected into the image (WhiteNoise serves them with hashed names). The
# settings insist on secrets even for this, so throwaway ones are made up for this step only.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    SOCIALDESK_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media \
    && chown -R socialdesk:socialdesk /app/var

USER socialdesk
EXPOSE 8000
CMD ["gunicorn", "socialdesk.wsgi:application", "--bind=0.0.0.0:8000"]

# madlake image: Astro Runtime (Airflow 3) + the project's pinned dependencies + the `madlake` package.
# Used by `astro dev start` / `astro deploy` and by docker-compose.yaml (`build: .`).
#
# Why the "-base" flavour of the runtime: the default Astro Runtime image carries ONBUILD triggers that run
# `pip install -r requirements.txt` verbatim before any line below. Our requirements.txt pins apache-airflow==3.3.2 (the
# version the dev venv was resolved against), and that pin must not replace the runtime's own Airflow build. So we take
# the image without triggers and install the dependencies ourselves, with the runtime's Airflow held fixed.
#
# Why python-3.11: pyproject.toml declares requires-python ">=3.11,<3.12" and constraints.txt was frozen on 3.11.
# Changing the runtime tag: keep "3.x-N-python-3.11-base"; see docs/deploy.md ("The image").
FROM astrocrpublic.azurecr.io/runtime:3.3-7-python-3.11-base

ENV MADLAKE_HOME=/usr/local/airflow/.madlake \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# System packages, Astro convention: one apt package per line in packages.txt (comments and blank lines ignored).
USER root
COPY packages.txt /tmp/packages.txt
RUN set -eu; \
    pkgs="$(grep -vE '^[[:space:]]*(#|$)' /tmp/packages.txt || true)"; \
    if [ -n "$pkgs" ]; then \
        apt-get update; \
        apt-get install -y --no-install-recommends $pkgs; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    rm -f /tmp/packages.txt
USER astro

# Python dependencies: requirements.txt with constraints.txt, minus the Airflow core distributions, whose versions the
# runtime image decides. The runtime's own Airflow versions are added as a third constraint, so pip fails loudly
# instead of silently up- or downgrading Airflow if some pinned package would need a different one.
# Providers (amazon, common-*, http, standard, ...) keep the project's pins: they are ordinary packages for Airflow.
COPY --chown=astro:0 requirements.txt constraints.txt /tmp/madlake-deps/
RUN set -eux; \
    cd /tmp/madlake-deps; \
    airflow_core='^apache[-_]airflow([-_]core|[-_]task[-_]sdk)?(\[[^]]*\])?[[:space:]]*=='; \
    pip list --format=freeze | grep -iE "$airflow_core" > runtime-airflow.txt || true; \
    cat runtime-airflow.txt; \
    grep -viE "$airflow_core" requirements.txt > requirements.filtered.txt; \
    grep -viE "$airflow_core" constraints.txt > constraints.filtered.txt; \
    pip install --no-cache-dir \
        -r requirements.filtered.txt \
        -c constraints.filtered.txt \
        -c runtime-airflow.txt; \
    cd /; rm -rf /tmp/madlake-deps

# The project itself (dags/, include/, plugins/, tests/ ...; see .dockerignore), then the package in editable mode:
# `import madlake` resolves to /usr/local/airflow/include/madlake, so the bind mounts of docker-compose.yaml (and
# Astro's dag-only deploys of include/) take effect without rebuilding. --no-deps: everything it needs is above.
COPY --chown=astro:0 . .
RUN pip install --no-cache-dir --no-deps -e . \
    && mkdir -p "$MADLAKE_HOME" /usr/local/airflow/logs \
    && python -c "import madlake, airflow; print('madlake OK on Airflow', airflow.__version__)"

#!/usr/bin/env bash
# Deploy the service to IBM Code Engine: build the image into IBM Cloud Container Registry, put
# .env into a Code Engine secret, and create (or update) the app with probes and scaling.
# Needs: the ibmcloud CLI with the code-engine (ce) and container-registry (cr) plugins, logged
# in (`ibmcloud login --sso` or `--apikey`), and docker. Settings come from the environment:
#   CE_PROJECT   Code Engine project (created if missing)            default agent-session
#   CE_REGION    region                                               default us-south
#   CR_NAMESPACE Container Registry namespace (created if missing)   required
#   APP_NAME     the app's name                                       default agent-session
#   MIN_SCALE / MAX_SCALE  instances                                  default 1 / 1
#   ENV_FILE     the settings to deploy                               default .env
# More than one instance needs a shared session store: set SESSION_STORE=redis://... (or
# rediss:// for IBM Cloud Databases for Redis, or redis+cluster://...) in ENV_FILE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

CE_PROJECT="${CE_PROJECT:-agent-session}"
CE_REGION="${CE_REGION:-us-south}"
CR_NAMESPACE="${CR_NAMESPACE:?set CR_NAMESPACE to your Container Registry namespace}"
APP_NAME="${APP_NAME:-agent-session}"
MIN_SCALE="${MIN_SCALE:-1}"
MAX_SCALE="${MAX_SCALE:-1}"
ENV_FILE="${ENV_FILE:-.env}"
PORT=8080

if [ "$MAX_SCALE" -gt 1 ] && ! grep -Eq '^SESSION_STORE=(redis|rediss|redis\+cluster)://' "$ENV_FILE"; then
  echo "MAX_SCALE=$MAX_SCALE needs SESSION_STORE=redis://... in $ENV_FILE: memory and sqlite" >&2
  echo "stores are per instance, and Code Engine sends a session's turns to any instance." >&2
  exit 1
fi

echo "Targeting region $CE_REGION and project $CE_PROJECT"
ibmcloud target -r "$CE_REGION"
ibmcloud ce project select --name "$CE_PROJECT" 2>/dev/null \
  || ibmcloud ce project create --name "$CE_PROJECT"

REGISTRY="$(ibmcloud cr region | sed -n "s/.*'\(.*icr\.io\)'.*/\1/p")"
IMAGE="$REGISTRY/$CR_NAMESPACE/$APP_NAME:$(git rev-parse --short HEAD)"
echo "Building and pushing $IMAGE (the first build compiles llama.cpp: about 5 minutes)"
ibmcloud cr namespace-add "$CR_NAMESPACE" 2>/dev/null || true
ibmcloud cr login
docker build -t "$IMAGE" .
docker push "$IMAGE"

echo "Registry access for Code Engine, and the settings secret from $ENV_FILE"
ibmcloud ce registry create --name icr-secret --server "$REGISTRY" --username iamapikey \
  --password "${IBMCLOUD_API_KEY:?set IBMCLOUD_API_KEY (an API key that can pull from ICR)}" \
  2>/dev/null || true
ibmcloud ce secret create --name "$APP_NAME-env" --from-env-file "$ENV_FILE" 2>/dev/null \
  || ibmcloud ce secret update --name "$APP_NAME-env" --from-env-file "$ENV_FILE"

# The service listens on PORT (Code Engine injects it; --port tells Code Engine which), on all
# interfaces. /ready turns 200 once every backend answers (the embedded model after its warm-up);
# /health is liveness. SIGTERM drains in-flight turns for SHUTDOWN_GRACE_SECONDS (20 s).
APP_FLAGS=(--image "$IMAGE" --registry-secret icr-secret --port "$PORT"
  --env-from-secret "$APP_NAME-env" --env HOST=0.0.0.0 --env LOG_FILE=
  --min-scale "$MIN_SCALE" --max-scale "$MAX_SCALE" --cpu 2 --memory 4G
  --concurrency 100 --request-timeout 60
  --probe-ready type=http --probe-ready path=/ready --probe-ready port="$PORT"
  --probe-ready interval=5 --probe-ready timeout=4 --probe-ready initial-delay=5
  --probe-live type=http --probe-live path=/health --probe-live port="$PORT"
  --probe-live interval=10 --probe-live timeout=4 --probe-live initial-delay=60)
if ibmcloud ce app get --name "$APP_NAME" >/dev/null 2>&1; then
  ibmcloud ce app update --name "$APP_NAME" "${APP_FLAGS[@]}"
else
  ibmcloud ce app create --name "$APP_NAME" "${APP_FLAGS[@]}"
fi
URL="$(ibmcloud ce app get --name "$APP_NAME" --output url)"
echo "Deployed: $URL (tool spec for Orchestrate and Assistant: $URL/openapi-3.0.json)"

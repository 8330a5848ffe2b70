#!/bin/bash
# Start a throwaway JupyterLab for scripts/browser_check.py.
# usage: VENV=/path/to/venv ROOT=/tmp/nbroot startlab.sh PORT NAME [extra jupyter args...]
# e.g.   startlab.sh 18951 full
#        startlab.sh 18952 missing --ServerApp.jpserver_extensions=nbops=False   # no server extension
# Runs in the foreground (exec): start it with `&` and kill it by its pid ($!).
set -euo pipefail
port=$1; name=$2; shift 2
VENV=${VENV:?set VENV to a venv with nbops installed}
ROOT=${ROOT:-/tmp/nbroot}
settings=/tmp/nbops-lab-settings
mkdir -p "/tmp/nbops-ws-$name" "$settings/@jupyterlab/apputils-extension"
# no "get notified about Jupyter news?" toast
echo '{"fetchNews": "false"}' > "$settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
if curl -s -o /dev/null "http://127.0.0.1:$port/"; then echo "port $port busy" >&2; exit 1; fi
cd /tmp
JUPYTERLAB_SETTINGS_DIR=$settings exec "$VENV/bin/jupyter" lab --no-browser --ip=127.0.0.1 \
  --port="$port" --port-retries=0 --IdentityProvider.token=nbopstok --ServerApp.root_dir="$ROOT" \
  --LabApp.workspaces_dir="/tmp/nbops-ws-$name" --allow-root "$@" > "/tmp/nbops-lab-$name.log" 2>&1

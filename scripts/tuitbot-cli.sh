#!/bin/sh
# `tuitbot` inside the image: the product's CLI with the image's environment, e.g.
#   docker compose exec tuitbot tuitbot tenants list
exec node --enable-source-maps /app/dist/supervisor/cli.js "$@"

#!/usr/bin/env bash
# A short AWS CLI session against Portico's management API: an API with one MOCK method,
# deployed to `dev`, called, changed by a patch operation, and redeployed.
# Usage: examples/aws-cli-session.sh http://127.0.0.1:4001 http://127.0.0.1:4000
set -euo pipefail
admin="${1:-http://127.0.0.1:4001}"
data="${2:-http://127.0.0.1:4000}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
apigw() { aws --endpoint-url "$admin" apigateway "$@"; }

api=$(apigw create-rest-api --name hello --query id --output text)
root=$(apigw get-resources --rest-api-id "$api" --query 'items[0].id' --output text)
apigw put-method --rest-api-id "$api" --resource-id "$root" --http-method GET --authorization-type NONE >/dev/null
apigw put-integration --rest-api-id "$api" --resource-id "$root" --http-method GET --type MOCK \
    --request-templates '{"application/json": "{\"statusCode\": 200}"}' >/dev/null
apigw put-method-response --rest-api-id "$api" --resource-id "$root" --http-method GET --status-code 200 >/dev/null
apigw put-integration-response --rest-api-id "$api" --resource-id "$root" --http-method GET --status-code 200 \
    --response-templates '{"application/json": "{\"hello\": \"$context.stage\"}"}' >/dev/null
apigw create-deployment --rest-api-id "$api" --stage-name dev >/dev/null
curl -s "$data/restapis/$api/dev/_user_request_/"; echo

apigw update-integration-response --rest-api-id "$api" --resource-id "$root" --http-method GET --status-code 200 \
    --patch-operations 'op=replace,path=/responseTemplates/application~1json,value="{\"hello\": \"again\"}"' >/dev/null
apigw create-deployment --rest-api-id "$api" --stage-name dev >/dev/null
curl -s "$data/restapis/$api/dev/_user_request_/"; echo
apigw get-stage --rest-api-id "$api" --stage-name dev --query '{stage: stageName, deployment: deploymentId}'

#!/usr/bin/env bash
# From `make run` to a settled trade (README, "A first trade"): list an instrument, admit two
# members, post a sell listing, take it, and see the buyer's holdings, both cash balances and
# the daily bar. Run it against a fresh `make run` (a second run finds the instrument listed).
set -euo pipefail
# Another platform (the tests' own, on free ports): TANHUI_CLI, TANHUI_REGISTRY_URL,
# TANHUI_MATCHING_URL, TANHUI_SETTLEMENT_URL, and TANHUI_STATE_DIR for `tanhui token`.
T=${TANHUI_CLI:-.venv/bin/tanhui}
R=${TANHUI_REGISTRY_URL:-http://127.0.0.1:8001}
M=${TANHUI_MATCHING_URL:-http://127.0.0.1:8003}
S=${TANHUI_SETTLEMENT_URL:-http://127.0.0.1:8005}
JSON='Content-Type: application/json'
ADMIN=$($T token --org ORG-REGISTRY --role registry_admin)
OPERATOR=$($T token --org TANHUI-MARKET --role market_operator)
SELLER=$($T token --org COOP-QP-01 --role member --role account_holder)
BUYER=$($T token --org ENT-STEEL-01 --role member --role account_holder)
post() { curl -sf -X POST "$1" -H "Authorization: Bearer $2" -H "$JSON" -H "Idempotency-Key: $3" -d "$4"; }

# Registry accounts; 100 t of YRDPH vintage 2024 for the cooperative.
COOP=$(post $R/v1/accounts "$ADMIN" open-coop '{"owner":"COOP-QP-01","name":"青浦稻米合作社"}' | jq -r .id)
ENT=$(post $R/v1/accounts "$ADMIN" open-ent '{"owner":"ENT-STEEL-01","name":"钢铁企业"}' | jq -r .id)
post $R/v1/issuances "$ADMIN" issue-1 \
  "{\"program\":\"YRDPH\",\"project\":\"QP0007\",\"vintage\":2024,\"quantity\":100,\"account\":\"$COOP\"}" >/dev/null

# Cash accounts at the settlement system (simulated on :8005); 1,000,000 fen for the buyer.
curl -sf -X POST $S/v1/accounts -H "$JSON" -d '{"id":"CASH-COOP-QP-01","owner":"COOP-QP-01"}' >/dev/null
curl -sf -X POST $S/v1/accounts -H "$JSON" -d '{"id":"CASH-ENT-STEEL-01","owner":"ENT-STEEL-01"}' >/dev/null
curl -sf -X POST $S/v1/accounts/CASH-ENT-STEEL-01/deposits -H "$JSON" -H 'Idempotency-Key: dep-1' \
  -d '{"amount":1000000}' >/dev/null

# The market operator lists the instrument (50.00 yuan/t reference, trading always) and
# admits both organisations as members.
post $M/v1/instruments "$OPERATOR" list-2024 \
  '{"program":"YRDPH","vintage":2024,"market_model":"listing","reference_price":5000,"sessions":"always"}' | jq -c '{id, band}'
post $M/v1/members "$OPERATOR" admit-coop \
  "{\"org\":\"COOP-QP-01\",\"registry_account\":\"$COOP\",\"cash_account\":\"CASH-COOP-QP-01\"}" >/dev/null
post $M/v1/members "$OPERATOR" admit-ent \
  "{\"org\":\"ENT-STEEL-01\",\"registry_account\":\"$ENT\",\"cash_account\":\"CASH-ENT-STEEL-01\"}" >/dev/null

# The cooperative lists 10 t at 50.00 yuan (its units are escrowed in the registry) …
LISTING=$(post $M/v1/listings "$SELLER" sell-1 \
  '{"instrument":"YRDPH-2024","side":"sell","price":5000,"quantity":10}' | jq -r .id)
curl -sf "$M/v1/listings?instrument=YRDPH-2024&side=sell" | jq -c '.levels[0]'
# … and the enterprise takes 4 t of it.
TRADE=$(post "$M/v1/listings/$LISTING/take" "$BUYER" take-1 '{"quantity":4}' | jq -r .trade_id)
for _ in $(seq 50); do  # delivery versus payment takes a moment
  STATUS=$(curl -sf "$M/v1/trades/$TRADE" -H "Authorization: Bearer $BUYER" | jq -r .status)
  [ "$STATUS" != executed ] && break
  sleep 0.1
done
echo "trade $TRADE: $STATUS"
curl -sf "$R/v1/accounts/$ENT/holdings" -H "Authorization: Bearer $BUYER" | jq -c '{available, held}'
curl -sf $S/v1/accounts/CASH-ENT-STEEL-01 | jq -c '{id, balance, reserved}'
curl -sf $S/v1/accounts/CASH-COOP-QP-01 | jq -c '{id, balance, reserved}'
curl -sf $M/v1/market/YRDPH-2024/daily | jq -c '.days[-1]'

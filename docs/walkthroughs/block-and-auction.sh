#!/usr/bin/env bash
# A block trade and a one-way auction on `make run` (README, "Block trades and auctions"): a
# cooperative quotes 100,000 t, an enterprise counters, the cooperative accepts; then the
# cooperative auctions 100,000 t with bidding open for five seconds. Run it against a fresh
# `make run` (a second run finds the instrument listed). Needs curl and jq.
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
COOP_T=$($T token --org COOP-WJ-01 --role member --role account_holder)
ENT_T=$($T token --org ENT-CHEM-01 --role member --role account_holder)
post() { curl -sf -X POST "$1" -H "Authorization: Bearer $2" -H "$JSON" -H "Idempotency-Key: $3" -d "${4:-{\}}"; }
settled() {  # wait for delivery versus payment to close a trade, then print it
  for _ in $(seq 100); do
    STATUS=$(curl -sf "$M/v1/trades/$1" -H "Authorization: Bearer $OPERATOR" | jq -r .status)
    [ "$STATUS" != executed ] && break
    sleep 0.1
  done
  curl -sf "$M/v1/trades/$1" -H "Authorization: Bearer $OPERATOR" | jq -c '{trade_id, mode, price, quantity, status}'
}

# 200,000 t of YRDPH 2025 for the cooperative; 1,500,000,000 fen for the enterprise.
COOP=$(post $R/v1/accounts "$ADMIN" open-wj '{"owner":"COOP-WJ-01","name":"吴江稻田合作社"}' | jq -r .id)
ENT=$(post $R/v1/accounts "$ADMIN" open-chem '{"owner":"ENT-CHEM-01","name":"化工企业"}' | jq -r .id)
post $R/v1/issuances "$ADMIN" issue-wj \
  "{\"program\":\"YRDPH\",\"project\":\"WJ0003\",\"vintage\":2025,\"quantity\":200000,\"account\":\"$COOP\"}" >/dev/null
curl -sf -X POST $S/v1/accounts -H "$JSON" -d '{"id":"CASH-COOP-WJ-01","owner":"COOP-WJ-01"}' >/dev/null
curl -sf -X POST $S/v1/accounts -H "$JSON" -d '{"id":"CASH-ENT-CHEM-01","owner":"ENT-CHEM-01"}' >/dev/null
curl -sf -X POST $S/v1/accounts/CASH-ENT-CHEM-01/deposits -H "$JSON" -H 'Idempotency-Key: dep-chem' \
  -d '{"amount":1500000000}' >/dev/null
post $M/v1/instruments "$OPERATOR" list-2025 \
  '{"program":"YRDPH","vintage":2025,"market_model":"listing","reference_price":5000,"sessions":"always"}' >/dev/null
post $M/v1/members "$OPERATOR" admit-wj \
  "{\"org\":\"COOP-WJ-01\",\"registry_account\":\"$COOP\",\"cash_account\":\"CASH-COOP-WJ-01\"}" >/dev/null
post $M/v1/members "$OPERATOR" admit-chem \
  "{\"org\":\"ENT-CHEM-01\",\"registry_account\":\"$ENT\",\"cash_account\":\"CASH-ENT-CHEM-01\"}" >/dev/null

# Block agreement 大宗协议: quote 100,000 t at 50.00 yuan (escrowed), a counter at 49.00
# (cash reserved), accepted by the cooperative: the trade settles by delivery versus payment.
QUOTE=$(post $M/v1/block-quotes "$COOP_T" quote-1 \
  '{"instrument":"YRDPH-2025","side":"sell","price":5000,"quantity":100000}' | jq -r .id)
post "$M/v1/block-quotes/$QUOTE/counter" "$ENT_T" counter-1 '{"price":4900,"quantity":100000}' \
  | jq -c '{status, price, last_offer_by, offers: (.offers | length)}'
BLOCK_TRADE=$(post "$M/v1/block-quotes/$QUOTE/accept" "$COOP_T" accept-1 | jq -r .trade_id)
settled "$BLOCK_TRADE"

# One-way auction 单向竞价: 100,000 t, reserve the previous close, uniform pricing, bidding
# open for five seconds; the enterprise bids for 60,000 t at 52.00 yuan.
OPENS=$(date -u +%Y-%m-%dT%H:%M:%SZ) CLOSES=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)
AUCTION=$(post $M/v1/auctions "$COOP_T" auction-1 \
  "{\"instrument\":\"YRDPH-2025\",\"quantity\":100000,\"reserve\":\"previous_close\",\"pricing\":\"uniform\",\"bidding_opens\":\"$OPENS\",\"bidding_closes\":\"$CLOSES\"}" \
  | jq -r .id)
post "$M/v1/auctions/$AUCTION/bids" "$ENT_T" bid-1 '{"price":5200,"quantity":60000}' | jq -c '{id, status}'
sleep 7  # the market's clock calls the auction once bidding has closed
curl -sf "$M/v1/auctions/$AUCTION/result" | jq -c '{status, allocations: [.allocations[] | {member, quantity, price}], unsold}'
settled "$(curl -sf "$M/v1/auctions/$AUCTION/result" | jq -r '.allocations[0].trade_id')"
sleep 2  # unsold units and what the bid did not use are released once the trade has closed
curl -sf "$R/v1/accounts/$ENT/holdings" -H "Authorization: Bearer $ENT_T" | jq -c '{available, held}'
curl -sf "$R/v1/accounts/$COOP/holdings" -H "Authorization: Bearer $COOP_T" | jq -c '{available, held}'
curl -sf $S/v1/accounts/CASH-ENT-CHEM-01 | jq -c '{id, balance, reserved}'
curl -sf $M/v1/market/YRDPH-2025/trades | jq -c '[.items[] | {mode, price, quantity}]'

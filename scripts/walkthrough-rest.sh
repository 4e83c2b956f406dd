#!/bin/sh
# The secondhand REST face with curl, on a fresh database: a seller lists a product, a buyer
# orders it, they finish the order. Ids are read from the replies. Run from the project folder
# with the server up; each reply is printed and the script stops at the first state != 200.
set -eu
B=${B:-http://localhost:4000}
OUTBOX=${FOOF_INSTANCE_PATH:-instance}/outbox/sms.jsonl
PHOTO=static/image/item/default.jpg          # any JPEG or PNG
S="-b seller.jar -c seller.jar"              # the seller's cookie jar
K="-b buyer.jar -c buyer.jar"                # the buyer's
J='Content-Type: application/json'
ok() {  # show a reply (stderr); fail unless its state is 200; print data[.path] if asked
    python3 -c 'import json, sys
reply = json.load(sys.stdin)
print(json.dumps(reply, ensure_ascii=False), file=sys.stderr)
if reply.get("state") != 200:
    sys.exit("state %s: %s" % (reply.get("state"), reply.get("message")))
value = reply["data"]
for key in (sys.argv[1].split(".") if len(sys.argv) > 1 else []):
    value = value[int(key)] if isinstance(value, list) else value[key] if key else value
if len(sys.argv) > 1:
    print(value)' "$@"
}

# 1. two accounts, each logged in with its own cookie jar
curl -s $S $B/users -H "$J" -d '{"username":"xiaocaomei","password":"abcdefg","resetQuestion":"3","resetAnswer":"happy"}' | ok
curl -s $S $B/users/sessions -H "$J" -d '{"username":"xiaocaomei","password":"abcdefg"}' | ok
curl -s $K $B/users -H "$J" -d '{"username":"dongmen","password":"hijklmn","resetQuestion":"1","resetAnswer":"tiger"}' | ok
curl -s $K $B/users/sessions -H "$J" -d '{"username":"dongmen","password":"hijklmn"}' | ok
curl -s $S $B/users/detail | ok

# 2. the seller proves a phone number with its SMS code (the outbox sender writes it to a file)
curl -s $B/user/requirecode -d phonenumber=13800000002 >/dev/null
CODE=$(tail -n1 "$OUTBOX" | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
curl -s $S $B/users/detail -H "$J" \
     -d '{"alias":"什么时候能有书读","phoneNumber":"13800000002","verifyCode":"'"$CODE"'"}' | ok
curl -s $S -X PATCH $B/users/detail/avatar -F file=@$PHOTO | ok

# 3. list a product with a picture, look at it, change it
P=$(curl -s $S $B/products -H "$J" \
     -d '{"name":"卫生纸","category":"00012","description":"超市买的，剩下4包","location":"1","price":"4","tags":"餐巾纸,卫生纸"}' | ok "")
curl -s $S -X PATCH $B/products/img/$P -F file=@$PHOTO | ok
curl -s "$B/products?page=1&size=20" | ok
curl -s $B/products/detail/$P | ok
curl -s $S -X PATCH $B/products/$P -H "$J" -d '{"price":"3.5"}' | ok

# 4. the buyer orders it; express number, completion; both see the order
curl -s $K -X POST "$B/orders/$P?trans=0" | ok
O=$(curl -s $K $B/orders/buy | ok 0.id)
curl -s $K -X POST "$B/orders/$O?type=2&number=SF123456" | ok
curl -s $S -X POST "$B/orders/$O?type=1&number=20230117" | ok   # paid outside Alipay (seller only)
curl -s $K -X POST "$B/orders/state/$O?state=2" | ok            # 1 cancel, 2 complete
curl -s $K $B/orders/buy | ok
curl -s $S $B/orders/sell | ok

# 5. passwords: change, reset with the answer, log out
curl -s $S -X PATCH $B/users/password -H "$J" -d '{"oldPassword":"abcdefg","newPassword":"123456"}' | ok
curl -s $B/users/password/reset -H "$J" -d '{"username":"xiaocaomei","resetAnswer":"happy","newPassword":"abcdefg"}' | ok
curl -s $K -X DELETE $B/users/sessions | ok
rm -f seller.jar buyer.jar
echo "REST walkthrough done: product $P, order $O"

#!/bin/sh
# The legacy API with curl, on a fresh database: SMS code, register, log in, avatar. Run from
# the project folder with the server up ('make run' in another terminal); each reply is
# printed and the script stops at the first one that is not a success.
set -eu
B=${B:-http://localhost:4000}
OUTBOX=${FOOF_INSTANCE_PATH:-instance}/outbox/sms.jsonl
PHOTO=static/image/avatar/default.jpg        # any JPEG or PNG
ok() {  # show a reply (stderr); fail unless its status is success; print one field if asked
    python3 -c 'import json, sys
reply = json.load(sys.stdin)
print(json.dumps(reply, ensure_ascii=False), file=sys.stderr)
if reply.get("status") != "success":
    sys.exit("refused: %s" % reply)
if len(sys.argv) > 1:
    print(reply[sys.argv[1]])' "$@"
}

# 1. ask for an SMS code; the default "outbox" SMS sender writes it to a file
curl -s $B/user/requirecode -d phonenumber=13800000000 | ok
CODE=$(tail -n1 "$OUTBOX" | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')

# 2. register with that code (the app sends the SHA-1 hex of the typed password;
#    any string works for the server, it is hashed again)
PW=$(printf 'my password' | sha1sum | cut -d' ' -f1)
curl -s $B/user/register -d phonenumber=13800000000 -d verifycode=$CODE -d password=$PW | ok

# 3. log in and keep the token
TOKEN=$(curl -s $B/user/login -d phonenumber=13800000000 -d password=$PW | ok token)
curl -s $B/user/me -d token=$TOKEN | ok

# 4. upload an avatar and look at it
curl -s $B/user/avatar -F token=$TOKEN -F file=@$PHOTO | ok
AVATAR=$(curl -s $B/user/me -d token=$TOKEN | ok avatarurl)
curl -s -f -o avatar.jpg $B/$AVATAR          # re-encoded JPEG, no EXIF, ≤ 1024 px
echo "legacy walkthrough done: avatar $AVATAR saved as avatar.jpg"

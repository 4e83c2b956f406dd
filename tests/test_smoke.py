def test_register_login_me(client, outbox):
    assert client.post("/user/requirecode", data={"phonenumber": "1"}).data == b'{"status":"success","data":{"id":"1"}}'
    code = outbox("sms")[-1]["code"]
    assert client.post("/user/register", data={"phonenumber": "1", "verifycode": code, "password": "1"}).json == {
        "status": "success"
    }
    reply = client.post("/user/login", data={"phonenumber": "1", "password": "1"}).json
    assert reply["status"] == "success"
    assert client.post("/user/me", data={"token": reply["token"]}).json["uuid"] == 1

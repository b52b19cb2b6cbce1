-- wrk script: POST /v1/auth/login with a fixed account.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench-login@rigmarket.test","password":"correct horse battery"}'

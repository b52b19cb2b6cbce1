-- wrk script: POST /v1/orders for one unit, with a fresh Idempotency-Key per
-- request, a buyer token and a listing picked at random from the files named by
-- ORDER_TOKENS and ORDER_LISTINGS (one per line).
local function lines(path)
    local out = {}
    for line in io.lines(path) do
        if line ~= "" then out[#out + 1] = line end
    end
    return out
end

local tokens = lines(os.getenv("ORDER_TOKENS"))
local listings = lines(os.getenv("ORDER_LISTINGS"))
local counter = 0
local thread_tag = tostring(math.random(1, 1e9))

local address = '{"name":"Bench Buyer","line1":"1 Road","city":"Almaty","postal_code":"050000",'
    .. '"country":"KZ","phone":"+7 701 555 0101"}'

request = function()
    counter = counter + 1
    local listing = listings[math.random(1, #listings)]
    local body = '{"listing_id":"' .. listing .. '","quantity":1,"payment_method":"wire","shipping_address":'
        .. address .. '}'
    local headers = {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)],
        ["Idempotency-Key"] = thread_tag .. "-" .. counter,
    }
    return wrk.format("POST", "/v1/orders", headers, body)
end

-- wrk script: POST /v1/listings/{id}/offers for one unit at the listing's
-- auto-accept price (so every request accepts at once and places the escrow
-- order), with a fresh Idempotency-Key, a buyer token and a listing picked at
-- random from the files named by ORDER_TOKENS and ORDER_LISTINGS; OFFER_PRICE
-- is the unit price offered and ORDER_RUN names the run.
local function lines(path)
    local out = {}
    for line in io.lines(path) do
        if line ~= "" then out[#out + 1] = line end
    end
    return out
end

local tokens = lines(os.getenv("ORDER_TOKENS"))
local listings = lines(os.getenv("ORDER_LISTINGS"))
local price = os.getenv("OFFER_PRICE")
local counter = 0
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("thread_number", threads)
end
function init(args)
    math.randomseed(thread_number * 104729)
end

local address = '{"name":"Bench Buyer","line1":"1 Road","city":"Almaty","postal_code":"050000",'
    .. '"country":"KZ","phone":"+7 701 555 0101"}'

request = function()
    counter = counter + 1
    local listing = listings[math.random(1, #listings)]
    local body = '{"quantity":1,"unit_price_cents":' .. price .. ',"payment_method":"wire","shipping_address":'
        .. address .. '}'
    local headers = {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)],
        ["Idempotency-Key"] = os.getenv("ORDER_RUN") .. "-" .. thread_number .. "-" .. counter,
    }
    return wrk.format("POST", "/v1/listings/" .. listing .. "/offers", headers, body)
end

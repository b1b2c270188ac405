exports = function () {
  const text = EJSON.stringify({ n: 1, l: BSON.Long.fromNumber(7) }, { relaxed: false });
  return {
    oid: new BSON.ObjectId("65a0c0ffee0000000000aaaa"),
    fresh: BSON.ObjectId.isValid(new BSON.ObjectId().toHexString()),
    long: BSON.Long.fromString("9007199254740993"),
    dec: BSON.Decimal128.fromString("12.50"),
    bin: BSON.Binary.createFromBase64("AAE=", 0),
    uuid: new BSON.UUID("0f8fad5b-d9cb-469f-a165-70867728950e"),
    when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
    text,
    parsed: EJSON.parse('{"x": {"$numberLong": "5"}}', { relaxed: false }).x instanceof BSON.Long,
    sha256: utils.crypto.hash("sha256", "abc").toString("hex"),
    md5: utils.crypto.hash("md5", "abc").toString("base64"),
    hmac: utils.crypto.hmac("message", "key", "sha256", "hex"),
    hmac64: utils.crypto.hmac("message", "key", "sha1", "base64"),
  };
};

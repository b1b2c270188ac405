// The usual App Services "write custom user data" function.
exports = async function (plan) {
  const users = context.services.get("mongodb-atlas").db("app").collection("custom_data");
  const result = await users.updateOne(
    { user_id: context.user.id }, { $set: { plan, "limits.calls": 10 } }, { upsert: true });
  const doc = await users.findOne({ user_id: context.user.id });
  return { result, doc };
};

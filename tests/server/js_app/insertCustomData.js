exports = async function (favorite) {
  const users = context.services.get("mongodb-atlas").db("app").collection("custom_data");
  return users.insertOne({ user_id: context.user.id, favorite });
};

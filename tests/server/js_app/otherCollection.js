exports = async function () {
  return context.services.get("mongodb-atlas").db("app").collection("orders").find({});
};

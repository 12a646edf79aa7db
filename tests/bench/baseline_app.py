"""The baseline a copnet write is compared with: a minimal Flask + pymongo handler, one write each."""

from __future__ import annotations

import os

import bson
import pymongo
from flask import Flask, jsonify, request

SEATS_COLLECTION = "seats"


def create_app() -> Flask:
    app = Flask(__name__)
    database = None

    def db():
        nonlocal database
        if database is None:  # after fork, like the gateway's channels
            database = pymongo.MongoClient(os.environ["BASELINE_MONGODB_URI"])["baseline"]
        return database

    @app.post("/communities")
    def create_community():
        body = request.get_json()
        document = {"_id": str(bson.ObjectId()), "name": body["name"], "kind": body["kind"],
                    "host_organization_id": body["host_organization_id"]}
        db()["communities"].insert_one(document)
        return jsonify({"id": document["_id"], **body}), 201

    @app.post("/communities/<community_id>/registrations")
    def register(community_id: str):
        """A seat while fewer than `capacity` are taken (one conditional update), else one on the waiting count."""
        request.get_json()
        seats = db()[SEATS_COLLECTION]
        taken = seats.update_one({"_id": community_id, "$expr": {"$lt": ["$confirmed", "$capacity"]}},
                                 {"$inc": {"confirmed": 1}})
        if taken.matched_count:
            return jsonify({"status": "confirmed"}), 201
        seats.update_one({"_id": community_id}, {"$inc": {"waiting": 1}})
        return jsonify({"status": "waitlisted"}), 201

    return app

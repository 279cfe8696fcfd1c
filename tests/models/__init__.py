"""Tests of ember.models."""

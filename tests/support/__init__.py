"""Test helpers shared by several areas: a throw-away PKI and a real mosquitto broker."""

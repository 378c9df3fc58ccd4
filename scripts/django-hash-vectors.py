#!/usr/bin/env python3
"""Prints password hashes made by Django's own PBKDF2PasswordHasher.

The vectors in Tests/AuthServerTests/PasswordTests.swift came from this script
(pip install django; Django 5.2.19 at the time), so that accounts carried over from the
original Django service are proven to verify here.
"""
import django
from django.conf import settings

settings.configure(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"])
from django.contrib.auth.hashers import PBKDF2PasswordHasher  # noqa: E402

hasher = PBKDF2PasswordHasher()
print("django", django.get_version())
for password, salt, iterations in [
    ("correct horse battery staple", "Q9fXyTmGvU2bN8aR", 600000),
    ("pässwörd ✓", "abcdefghijklmnop", 870000),
    (" spaced out ", "saltsaltsaltsalt", 1000),
    ("x" * 128, "0123456789abcdef", 260000),
]:
    print(repr(password), hasher.encode(password, salt, iterations))

"""Hackathon kit: conversion exercises, scorecards and a leaderboard."""

"""Scrapy spiders: one long-lived spider fed with sources to crawl."""

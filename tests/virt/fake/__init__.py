"""Tests of cumulo/virt/fake/, module by module."""

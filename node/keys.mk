# node/keys.mk -- node key types and the lab refusal tests.

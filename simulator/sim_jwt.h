/*  sim_jwt: decodes a compact JWS (header.payload.signature, base64url) and
    checks an RS256 signature with an RSA public key (OpenSSL 3 EVP).
*/
#ifndef SIM_JWT_H
#define SIM_JWT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

typedef enum {
    SIM_JWT_OK,
    SIM_JWT_MALFORMED,          //  not three base64url parts of JSON objects
    SIM_JWT_BAD_ALGORITHM,      //  the header's alg is not RS256
    SIM_JWT_BAD_SIGNATURE,      //  the signature does not verify
} sim_jwt_result;

//  Loads an RSA public key from a PEM file (SubjectPublicKeyInfo "PUBLIC
//  KEY" or PKCS#1 "RSA PUBLIC KEY"). Returns the key, which the caller frees
//  with EVP_PKEY_free, or NULL with the reason in error.
EVP_PKEY *sim_jwt_load_public_key(const char *path, char *error, size_t error_size);

//  Decodes token and, when key is not NULL, verifies its RS256 signature.
//  On SIM_JWT_OK sets *claims to the payload object, which the caller owns.
sim_jwt_result sim_jwt_decode(const char *token, EVP_PKEY *key, json_t **claims);

#endif

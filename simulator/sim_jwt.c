/*  sim_jwt: compact JWS decoding and RS256 verification.  */
#include "sim_jwt.h"

#include <openssl/decoder.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

EVP_PKEY *sim_jwt_load_public_key(const char *path, char *error, size_t error_size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(error, error_size, "cannot open public key %s", path);
        return NULL;
    }
    EVP_PKEY *key = NULL;
    OSSL_DECODER_CTX *decoder = OSSL_DECODER_CTX_new_for_pkey(
        &key, "PEM", NULL, "RSA", EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (!decoder || OSSL_DECODER_from_fp(decoder, file) != 1 || !key) {
        snprintf(error, error_size, "%s is not a PEM RSA public key", path);
        EVP_PKEY_free(key);
        key = NULL;
    }
    OSSL_DECODER_CTX_free(decoder);
    fclose(file);
    return key;
}

static int s_base64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

//  Decodes unpadded base64url text into a new NUL-terminated buffer.
//  Returns it (the caller frees it) and its size, or NULL when the text is
//  not base64url.
static unsigned char *s_base64url_decode(const char *text, size_t length, size_t *size)
{
    if (length % 4 == 1)
        return NULL;
    unsigned char *out = malloc(length * 3 / 4 + 3);
    if (!out)
        return NULL;
    size_t used = 0;
    uint32_t bits = 0;
    int bit_count = 0;
    for (size_t i = 0; i < length; i++) {
        int value = s_base64url_value(text[i]);
        if (value < 0) {
            free(out);
            return NULL;
        }
        bits = (bits << 6) | (uint32_t)value;
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            out[used++] = (unsigned char)(bits >> bit_count);
        }
    }
    out[used] = '\0';
    *size = used;
    return out;
}

//  Decodes one base64url part that must hold a JSON object.
static json_t *s_decode_object(const char *text, size_t length)
{
    size_t size;
    unsigned char *raw = s_base64url_decode(text, length, &size);
    if (!raw)
        return NULL;
    json_t *object = json_loadb((const char *)raw, size, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (object && !json_is_object(object)) {
        json_decref(object);
        object = NULL;
    }
    return object;
}

static bool s_verify(EVP_PKEY *key, const char *signed_part, size_t signed_length,
                     const unsigned char *signature, size_t signature_size)
{
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    bool valid = context
              && EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, key) == 1
              && EVP_DigestVerify(context, signature, signature_size,
                                  (const unsigned char *)signed_part, signed_length) == 1;
    EVP_MD_CTX_free(context);
    return valid;
}

sim_jwt_result sim_jwt_decode(const char *token, EVP_PKEY *key, json_t **claims)
{
    const char *first_dot = strchr(token, '.');
    const char *second_dot = first_dot ? strchr(first_dot + 1, '.') : NULL;
    if (!second_dot || strchr(second_dot + 1, '.'))
        return SIM_JWT_MALFORMED;

    sim_jwt_result result = SIM_JWT_MALFORMED;
    json_t *header = s_decode_object(token, (size_t)(first_dot - token));
    json_t *payload = s_decode_object(first_dot + 1, (size_t)(second_dot - first_dot - 1));
    size_t signature_size = 0;
    unsigned char *signature =
        s_base64url_decode(second_dot + 1, strlen(second_dot + 1), &signature_size);
    if (!header || !payload || !signature)
        goto done;

    const char *algorithm = json_string_value(json_object_get(header, "alg"));
    result = SIM_JWT_BAD_ALGORITHM;
    if (!algorithm || strcmp(algorithm, "RS256") != 0)
        goto done;
    result = SIM_JWT_BAD_SIGNATURE;
    if (key && !s_verify(key, token, (size_t)(second_dot - token), signature, signature_size))
        goto done;

    result = SIM_JWT_OK;
    *claims = payload;
    payload = NULL;
done:
    json_decref(header);
    json_decref(payload);
    free(signature);
    return result;
}
